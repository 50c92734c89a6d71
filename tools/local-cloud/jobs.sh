#!/bin/bash
# The jobs that share one local cloud (tox -e cloud, tempest, dashboard,
# chains; cloud.py says the rest):
#
#   jobs.sh                            # the cloud for a person (serve)
#   jobs.sh tempest dashboard chains   # each job in turn, on one cloud
exec python3 "$(dirname "$0")/cloud.py" "$@"
