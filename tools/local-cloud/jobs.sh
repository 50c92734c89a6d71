#!/bin/bash
# The jobs that run on the local cloud (run.sh), on one cloud started once:
#
#   jobs.sh                        # the cloud for a person (run.sh serve)
#   jobs.sh tempest dashboard chains   # each job in turn (CI: tox -e cloud)
#
#   tempest     tempest and the cloud checks (run.sh tempest DIR)
#   dashboard   the Horizon plugin's unit tests, then the browser test
#               (tools/dashboard/run.sh)
#   chains      the openstack CLI and project cleanup (chains_job.py)
#
# The cloud is stopped, its database, RabbitMQ vhost and folder removed,
# however this ends (run.sh stop DIR). Every job runs, even after one
# failed; the exit status is 1 when any failed. The jobs leave the cloud as
# they found it for the next: each works in projects or volumes of its own,
# and the dashboard job puts Cinder's policy file back.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
usage() {
    sed -n '4,11p' "$0" | sed 's/^# *//' >&2
    exit 2
}
[ $# -gt 0 ] || exec bash "$HERE/run.sh" serve
for job; do
    case "$job" in tempest|dashboard|chains) ;; *) usage ;; esac
done

started=$SECONDS
CLOUD=""
UP_PID=""
UP_LOG=$(mktemp)
finish() {
    local status=$1
    trap '' INT TERM HUP
    trap - EXIT
    if [ -n "$UP_PID" ]; then  # run.sh tears itself down while starting
        kill -TERM "$UP_PID" 2>/dev/null || true
        wait "$UP_PID" 2>/dev/null || true
    fi
    if [ -n "$CLOUD" ] && [ "$status" != 0 ]; then
        echo "--- last lines of the cloud's logs ($CLOUD) ---"
        tail -n 25 "$CLOUD"/*.log 2>/dev/null || true
    fi
    [ -z "$CLOUD" ] || bash "$HERE/run.sh" stop "$CLOUD" || status=1
    rm -f "$UP_LOG"
    echo "cloud jobs: exit status $status after $((SECONDS - started))s"
    exit "$status"
}
trap 'finish $?' EXIT
trap 'echo "SIGINT: stopping"; finish 130' INT
trap 'echo "SIGTERM: stopping"; finish 143' TERM
trap 'echo "SIGHUP: stopping"; finish 129' HUP

# In the background, so that a signal reaches the traps at once.
bash "$HERE/run.sh" up > >(tee "$UP_LOG") 2>&1 &
UP_PID=$!
up_status=0
wait "$UP_PID" || up_status=$?
UP_PID=""
CLOUD=$(sed -n 's/^CBE_CLOUD_DIR=//p' "$UP_LOG" | tail -n 1)
if [ "$up_status" != 0 ] || [ -z "$CLOUD" ]; then
    echo "the local cloud did not start (status $up_status)" >&2
    exit 1
fi

failed=()
for job; do
    t0=$SECONDS
    echo "=== $job, on the cloud in $CLOUD"
    case "$job" in
        tempest) cmd=(bash "$HERE/run.sh" tempest "$CLOUD") ;;
        dashboard) cmd=(bash -c 'cd "$1" &&
            stestr --test-path ./tests/dashboard --top-dir ./ \
                --repo-url "$(mktemp -d)" run &&
            bash tools/dashboard/run.sh' dashboard "$TOP") ;;
        chains) cmd=(python "$HERE/chains_job.py") ;;
    esac
    status=0
    CBE_CLOUD_DIR=$CLOUD "${cmd[@]}" || status=$?
    [ "$status" = 0 ] || failed+=("$job")
    echo "=== $job: exit status $status in $((SECONDS - t0))s"
done
[ ${#failed[@]} = 0 ] || { echo "cloud jobs failed: ${failed[*]}"; exit 1; }
