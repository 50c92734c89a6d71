#!/bin/bash
# The local cloud (cloud.py, where everything is said):
#
#   run.sh serve            # up, say how to use it, down on Ctrl-C (tox -e cloud)
#   run.sh up               # up and keep it; the last line is CBE_CLOUD_DIR=DIR
#   run.sh tempest DIR      # tempest and the checks on a kept cloud
#   run.sh stop DIR         # stop a kept cloud, remove DIR
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = tempest ] && [ $# = 2 ]; then
    exec python3 "$HERE/cloud.py" tempest --cloud "$2"
fi
exec python3 "$HERE/cloud.py" "$@"
