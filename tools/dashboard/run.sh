#!/bin/bash
# The Horizon plugin in a real browser, as `tox -e dashboard` runs it:
# the local cloud (tools/local-cloud/run.sh up: Keystone and Cinder with
# cinder-backup-ext), Horizon 27 with the plugin's enabled file under
# gunicorn, and headless Chromium driven by Selenium (browser_test.py)
# logging in as the cloud's project member and checking the backups table
# and detail page. Screenshots go to the output folder.
#
#   tox -e dashboard                          # what CI runs
#   CBE_CLOUD_DIR=DIR run.sh [--output DIR]   # on a running local cloud
#                                             # (screenshots into DIR)
#
# tools/local-cloud/jobs.sh starts the cloud and sets CBE_CLOUD_DIR.
# Environment: HORIZON_PORT (18080); CBE_DASHBOARD_OUTPUT (the default output folder);
# CBE_DASHBOARD_STATIC (where Horizon's collected and compressed static
# files are kept and reused; default: inside the tox environment);
# CBE_KEEP_LOGS=1 keeps the work folder (logs) after the run.
#
# Needs what the local cloud needs (MariaDB, RabbitMQ: tools/test-setup.sh)
# and Debian's chromium and chromium-driver (bindep.txt's dashboard
# profile), installed here when absent.
# Everything the job starts is stopped at the end, and the files it puts
# into Horizon's installation (local_settings.py, the enabled file) are
# removed again.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUTPUT=${CBE_DASHBOARD_OUTPUT:-$TOP/dashboard-screenshots}
while [ $# -gt 0 ]; do
    case "$1" in
        --output) OUTPUT=${2:?--output needs a folder}; shift 2 ;;
        --output=*) OUTPUT=${1#--output=}; shift ;;
        *) echo "usage: $0 [--output DIR]" >&2; exit 2 ;;
    esac
done
CLOUD=${CBE_CLOUD_DIR:-}
[ -f "$CLOUD/cloud.env" ] || {
    echo "CBE_CLOUD_DIR='$CLOUD' is not a local cloud's folder (no" \
         "cloud.env): run tools/local-cloud/jobs.sh dashboard (tox -e" \
         "dashboard), which starts one." >&2
    exit 2
}
KS_PORT=$(. "$CLOUD/cloud.env" && echo "$KS_PORT")
HORIZON_PORT=${HORIZON_PORT:-18080}
started=$SECONDS

# --- the browser: Debian's packages (bindep.txt's dashboard profile) ------
bash "$TOP/tools/install-packages.sh" dashboard
chromium --version
chromedriver --version

if (exec 3<>"/dev/tcp/127.0.0.1/$HORIZON_PORT") 2>/dev/null; then
    echo "127.0.0.1:$HORIZON_PORT is in use; set HORIZON_PORT." >&2
    exit 1
fi

# --- state, and the one way out ---------------------------------------------
WORK=$(mktemp -d /tmp/cbe-dashboard.XXXXXX)
SITE=$(python -c 'import os, openstack_dashboard as d
print(os.path.dirname(d.__file__))')
LOCAL_SETTINGS=$SITE/local/local_settings.py
ENABLED_FILE=_1330_project_backups_panel.py
ENABLED=$SITE/local/enabled/$ENABLED_FILE
MARK="# Written by cinder-backup-ext's tools/dashboard/run.sh"
for file in "$LOCAL_SETTINGS" "$ENABLED"; do
    if [ -e "$file" ] && ! grep -qF "$MARK" "$file"; then
        echo "$file exists and is not this job's: not overwriting it" >&2
        rmdir "$WORK"
        exit 1
    fi
done
HORIZON_PGID=""
FINISHED=""
finish() {
    local status=$1
    trap '' INT TERM HUP
    trap - EXIT
    [ -z "$FINISHED" ] || exit "$status"
    FINISHED=1
    if [ "$status" != 0 ]; then
        echo "--- last lines of the logs ($WORK) ---"
        tail -n 30 "$WORK"/*.log 2>/dev/null || true
    fi
    if [ -n "$HORIZON_PGID" ]; then
        kill -TERM -- "-$HORIZON_PGID" 2>/dev/null || true
        for _ in $(seq 40); do
            ps -e -o pgid=,stat= | awk -v g="$HORIZON_PGID" \
                '$1 == g && $2 !~ /^Z/ {f=1} END {exit !f}' || break
            sleep 0.5
        done
        kill -KILL -- "-$HORIZON_PGID" 2>/dev/null || true
        echo "horizon (process group $HORIZON_PGID) stopped"
    fi
    rm -f "$LOCAL_SETTINGS" "$ENABLED"
    if [ -n "${CBE_KEEP_LOGS:-}" ]; then
        echo "logs kept (CBE_KEEP_LOGS): $WORK"
    else
        rm -rf -- "$WORK"
    fi
    echo "dashboard job: exit status $status after $((SECONDS - started))s"
    exit "$status"
}
trap 'finish $?' EXIT
trap 'echo "SIGINT: stopping"; finish 130' INT
trap 'echo "SIGTERM: stopping"; finish 143' TERM
trap 'echo "SIGHUP: stopping"; finish 129' HUP

# --- Horizon's settings: what an operator writes ------------------------------
STATIC=${CBE_DASHBOARD_STATIC:-${VIRTUAL_ENV:-$WORK}/cbe-dashboard-static}
SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
cat >"$LOCAL_SETTINGS" <<SETTINGS
$MARK; removed at its end.
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = '$SECRET'
# Served at the root by gunicorn: no /dashboard prefix.
WEBROOT = '/'
OPENSTACK_HOST = '127.0.0.1'
OPENSTACK_KEYSTONE_URL = 'http://127.0.0.1:$KS_PORT/v3'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_CINDER_FEATURES = {'enable_backup': True}
# The session in a signed cookie: any gunicorn worker serves any request.
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
# Static files collected and compressed ahead (manage.py collectstatic,
# compress), served by WhiteNoise (tools/dashboard/horizon_wsgi.py).
STATIC_ROOT = '$STATIC'
COMPRESS_OFFLINE = True
COMPRESS_ENABLED = True
TIME_ZONE = 'UTC'
# Seconds a batch delete waits for deleted incrementals to be gone.
CINDER_BACKUP_EXT_DELETE_WAIT = 90
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'file': {'class': 'logging.FileHandler',
                          'filename': '$WORK/horizon.log'}},
    'root': {'handlers': ['file'], 'level': 'INFO'},
}
SETTINGS
{ echo "$MARK; removed at its end."
  cat "$TOP/cinder_backup_ext/dashboard/enabled/$ENABLED_FILE"; } >"$ENABLED"
export DJANGO_SETTINGS_MODULE=openstack_dashboard.settings

# --- static files: built once, reused while Horizon and settings stay -------
static_inputs() {
    python --version
    python -m pip freeze --all | grep -v -i '^cinder[-_]backup[-_]ext' |
        sha256sum
    # The settings that shape the static files (not the ports or the key).
    grep -E '^(WEBROOT|STATIC_ROOT|COMPRESS_)' "$LOCAL_SETTINGS"
    sha256sum <"$TOP/cinder_backup_ext/dashboard/enabled/$ENABLED_FILE"
}
build_static() {
    if [ -f "$STATIC/.complete" ] &&
            [ "$(cat "$STATIC/.complete")" = "$(static_inputs)" ]; then
        echo "static files: reusing $STATIC"
        return 0
    fi
    local t=$SECONDS
    rm -rf "$STATIC"
    # Called in a condition, where set -e does not stop at a failure.
    python -m django collectstatic --noinput >"$WORK/collectstatic.log" \
        2>&1 || return 1
    python -m django compress --force >"$WORK/compress.log" 2>&1 || return 1
    static_inputs >"$STATIC/.complete"
    echo "static files: built in $STATIC in $((SECONDS - t))s"
}
build_static || {
    tail -n 30 "$WORK/collectstatic.log" "$WORK/compress.log" >&2 || true
    echo "collecting or compressing the static files failed" >&2
    exit 1
}
# The cloud's policy file: the browser test changes it and puts it back.
POLICY=$CLOUD/cinder-policy.yaml

# --- Horizon under gunicorn ---------------------------------------------------
GUNICORN=(gunicorn --chdir "$HERE" --graceful-timeout 5 --timeout 180)
gunicorn --help | grep -q -e --no-control-socket &&
    GUNICORN+=(--no-control-socket)
setsid "${GUNICORN[@]}" -b "127.0.0.1:$HORIZON_PORT" --workers 2 \
    --access-logfile "$WORK/horizon-access.log" horizon_wsgi:application \
    </dev/null >"$WORK/gunicorn-horizon.log" 2>&1 &
HORIZON_PGID=$!
for _ in $(seq 120); do
    curl -s -o /dev/null "http://127.0.0.1:$HORIZON_PORT/auth/login/" && break
    kill -0 "$HORIZON_PGID" 2>/dev/null || { echo "gunicorn died" >&2; exit 1; }
    sleep 1
done
echo "horizon: http://127.0.0.1:$HORIZON_PORT/ (gunicorn, 2 workers)"

# --- the browser test ---------------------------------------------------------
mkdir -p "$OUTPUT"
python "$HERE/browser_test.py" --horizon "http://127.0.0.1:$HORIZON_PORT" \
    --clouds "$CLOUD/clouds.yaml" --policy-file "$POLICY" \
    --output "$OUTPUT" --log "$WORK/browser.log"
echo "screenshots: $OUTPUT"
