#!/bin/bash
# The Horizon plugin in a real browser (horizon_job.py says the rest):
#
#   tox -e dashboard                          # what CI runs
#   CBE_CLOUD_DIR=DIR run.sh [--output DIR]   # on a running local cloud
#                                             # (screenshots into DIR)
exec python3 "$(dirname "$0")/horizon_job.py" "$@"
