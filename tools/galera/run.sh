#!/bin/bash
# tox -e galera: a 3-node MariaDB Galera cluster (tools/galera/cluster.sh),
# the db sync job under writes (tools/galera/job.py, TOI then RSU), and
# tests/functional/test_galera.py on the same cluster; the cluster is
# stopped and its datadirs removed at the end, whatever happens.
#   tools/galera/run.sh [job.py options, e.g. --rows 1000000]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/cbe-galera-XXXXXX)
cleanup() {
    bash "$HERE/cluster.sh" stop "$DIR" || true
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export GALERA_PORT=${GALERA_PORT:-13306}
PORTS="$GALERA_PORT,$((GALERA_PORT + 1)),$((GALERA_PORT + 2))"
started=$SECONDS
bash "$HERE/cluster.sh" start "$DIR"
echo "cluster up in $((SECONDS - started)) s"
status=0
python -m tools.galera.job --ports "$PORTS" "$@" || status=1
CBE_GALERA_PORTS=$PORTS stestr --test-path ./tests/functional run --serial test_galera || status=1
echo "tox -e galera: $((SECONDS - started)) s, status $status"
exit $status
