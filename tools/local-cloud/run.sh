#!/bin/bash
# One machine, one command: Keystone, and Cinder's api, scheduler, volume and
# backup services as separate processes with cinder-backup-ext loaded, the
# API as Cinder's WSGI application under gunicorn with several workers, as
# production runs it; an oslo.messaging listener on the run's own
# notification topic. On it: tempest (this plugin's tests and the upstream
# backup tests that need no other service) and checks that every API worker
# loaded the plugin and that the backup notifications carry its fields.
#
#   run.sh serve            # up, say how to use it, down on Ctrl-C (tox -e cloud)
#   run.sh up               # up and keep it; the last line is CBE_CLOUD_DIR=DIR
#   run.sh tempest DIR      # tempest and the checks on a kept cloud
#   run.sh stop DIR         # stop a kept cloud, remove DIR
#
# tools/local-cloud/jobs.sh runs the jobs that share one cloud (tempest,
# dashboard, chains) with up and stop. The work folder (/tmp/cbe-cloud.*)
# is printed first and removed at the end, unless CBE_KEEP_LOGS=1 (services
# stopped, logs kept). DIR/clouds.yaml (clouds cbe-admin and cbe-member),
# DIR/openrc and DIR/cinder-policy.yaml (Cinder's policy file, '{}': the
# defaults) are written for the jobs and for people. Ctrl-C or SIGTERM
# stops everything at any point, once.
#
# Environment: KS_PORT (15000), CINDER_PORT (18776), CINDER_API_WORKERS (2),
# TEMPEST_REGEX, TEMPEST_EXCLUDE, CBE_KEEP_LOGS, CBE_CINDER_CONF_EXTRA (a
# file of cinder.conf lines appended to the generated one).
# Needs MariaDB and RabbitMQ on 127.0.0.1 (tools/test-setup.sh) and the
# services' packages: run it through tox (tox -e cloud), which installs them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PASSWORD=cbe-secret

usage() {
    sed -n '10,13p' "$0" | sed 's/^# *//' >&2
    exit 2
}

# --- teardown: used by the trap and by `run.sh stop DIR` -------------------
group_alive() {  # pgid: true while a live (non-zombie) process is in it
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ {f=1}
                                          END {exit !f}'
}

survivors() {  # this cloud's processes still there: its sessions, and any
    # process reading its cinder.conf (services, privsep daemons)
    ps -e -o sid=,pid=,stat=,args= |
        awk -v sids=" $PGIDS " -v conf="$WORK/cinder.conf" -v me=$$ \
            '$3 !~ /^Z/ && $2 != me && $0 !~ /awk -v sids/ &&
             (index(sids, " " $1 " ") || index($0, conf))' || true
}

teardown() {  # reads the state of $WORK/cloud.env, already sourced
    local pg alive left
    echo "--- stopping the local cloud in $WORK"
    for pg in $PGIDS; do kill -TERM -- "-$pg" 2>/dev/null || true; done
    for _ in $(seq 60); do
        alive=""
        for pg in $PGIDS; do group_alive "$pg" && alive+=" $pg"; done
        [ -z "$alive" ] && break
        sleep 0.5
    done
    for pg in $alive; do
        echo "process group $pg ignored SIGTERM for 30s: SIGKILL"
        kill -KILL -- "-$pg" 2>/dev/null || true
    done
    sleep 0.5
    left=$(survivors)
    if [ -n "$left" ]; then
        echo "left over, killed:"; echo "$left"
        echo "$left" | awk '{print $2}' | xargs -r kill -KILL 2>/dev/null || true
    else
        echo "processes: none left (process groups:$PGIDS)"
    fi
    mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB" &&
        echo "database $DB dropped" || true
    if [ "$VHOST" != / ]; then
        # All the run's queues and exchanges (RPC and notifications) go.
        rabbitmqctl -q delete_vhost "$VHOST" 2>/dev/null &&
            echo "RabbitMQ vhost $VHOST deleted, with its queues" || true
    elif [ -x "$PYTHON" ]; then
        "$PYTHON" "$HERE/check_cloud.py" delete-queues --url "$TRANSPORT" \
            --topic "$TOPIC" || true
    fi
}

remove_work() {
    case "$WORK" in /tmp/cbe-cloud.*) rm -rf -- "$WORK" ;; esac
    echo "removed $WORK"
}

load_cloud() {  # DIR: a kept cloud's state, or exit 1 saying what is there
    [ -f "$1/cloud.env" ] || {
        echo "$1 is not a local cloud's folder (no cloud.env); kept clouds:"
        ls -d /tmp/cbe-cloud.*/cloud.env 2>/dev/null | xargs -r -n1 dirname || true
        exit 1
    } >&2
    # shellcheck source=/dev/null
    . "$1/cloud.env"
    STATE=$1/cloud.env
}

record() {  # pgid: remembered at once, for any teardown
    PGIDS+=" $1"
    echo "PGIDS+=\" $1\"" >>"$STATE"
}

run_bg() {  # command...: in the foreground, but stoppable by the traps
    setsid "$@" </dev/null &
    local pid=$!
    record "$pid"
    wait "$pid"
}

how_to_use() {
    local bin
    bin=$(dirname "$(command -v openstack)")
    cat <<USAGE

The local cloud is running, in $WORK
  Keystone $AUTH_URL, Cinder http://127.0.0.1:$CINDER_PORT/v3 (gunicorn, ${CINDER_API_WORKERS:-2} workers)
  the clients (openstack, cinder) are in $bin:
  export PATH=$bin:\$PATH
  export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
  openstack --os-cloud cbe-member volume backup list
  openstack --os-cloud cbe-admin volume service list
  . $WORK/openrc member; cinder backup-list        # or: openrc admin
  logs: $WORK/*.log, notifications: $WORK/notifications.jsonl
USAGE
}

run_tempest() {  # tempest and the checks on the cloud of $STATE
    local tempest_started tempest_status=0 check_status=0
    cd "$WORK"
    # tempest keeps its locks in $TMPDIR/tempest-lock: inside this run's
    # folder, which the teardown removes, rather than in /tmp.
    export TMPDIR="$WORK/tmp"
    mkdir -p "$TMPDIR"
    tempest init --name "cbe-cloud-$RUN" \
        --workspace-path "$WORK/workspace.yaml" tempest >/dev/null
    sed -e "s|@WORK@|$WORK|g" -e "s|@PASSWORD@|$PASSWORD|g" \
        -e "s|@AUTH_URL@|$AUTH_URL|g" "$HERE/tempest.conf.in" \
        >"$WORK/tempest/etc/tempest.conf"
    cd "$WORK/tempest"
    # cinder-tempest-plugin's test_incremental_backup boots from an image:
    # no image service here. Tempest keeps a class in one worker; with four
    # workers the seven classes, which mostly wait for backups, overlap.
    tempest_started=$(date +%s)
    run_bg tempest run --concurrency 4 \
        --regex "${TEMPEST_REGEX:-(^cinder_backup_ext\.tempest|^tempest\.api\.volume\.test_volumes_backup\.VolumesBackupsV39Test|^tempest\.api\.volume\.admin\.test_volumes_backup|^cinder_tempest_plugin\.api\.volume\.(admin\.)?test_volume_backup)}" \
        --exclude-regex "${TEMPEST_EXCLUDE:-test_volume_backup\.VolumesBackupsTest\.test_incremental_backup\b}" ||
        tempest_status=$?
    echo "tempest: exit status $tempest_status in" \
         "$(( $(date +%s) - tempest_started ))s"

    # The plugin in every API worker; its notifications on the bus.
    run_bg python "$HERE/check_cloud.py" flags --auth-url "$AUTH_URL" \
        --username cbe-member --password "$PASSWORD" --project cbe-demo \
        --db-url "mysql+pymysql://root@127.0.0.1/$DB" \
        --access-log "$WORK/cinder-api-access.log" --master "$API_MASTER" ||
        check_status=1
    run_bg python "$HERE/check_cloud.py" notifications \
        --events "$WORK/notifications.jsonl" || check_status=1
    [ "$tempest_status" = 0 ] || return "$tempest_status"
    return "$check_status"
}

if [ "${1:-}" != stop ] && ! { command -v cinder-api &&
        command -v keystone-manage; } >/dev/null; then
    echo "Cinder and Keystone are not installed here: run this through tox," \
         "which installs them (tox -e cloud)." >&2
    exit 2
fi
case "${1:-}" in
    stop)
        [ $# = 2 ] || usage
        load_cloud "$2"
        trap '' INT TERM HUP
        teardown
        if [ -n "${CBE_KEEP_LOGS:-}" ]; then
            echo "logs kept (CBE_KEEP_LOGS): $WORK"
        else
            remove_work
        fi
        exit 0 ;;
    tempest)
        [ $# = 2 ] || usage
        load_cloud "$2"
        run_tempest
        exit $? ;;
esac
case "${1:-}" in
    up|serve) MODE=$1; shift ;;
    *) usage ;;
esac

KS_PORT=${KS_PORT:-15000}
CINDER_PORT=${CINDER_PORT:-18776}
CINDER_API_WORKERS=${CINDER_API_WORKERS:-2}
for port in "$KS_PORT" "$CINDER_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "127.0.0.1:$port is in use: another local cloud? Stop a kept" \
             "one with '$0 stop DIR', or set KS_PORT/CINDER_PORT." >&2
        ls -d /tmp/cbe-cloud.*/cloud.env 2>/dev/null | xargs -r -n1 dirname >&2 || true
        exit 1
    fi
done

started=$(date +%s)
WORK=$(mktemp -d /tmp/cbe-cloud.XXXXXX)
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
DB=cbe_tempest_$RUN
TOPIC=cbe_$RUN
VHOST=/
PYTHON=$(command -v python)
PGIDS=""
TRANSPORT="rabbit://guest:guest@127.0.0.1:5672/"
FINISHED=""
KEEP_UP=""
finish() {  # status: the one way out; tears down at most once
    local status=$1
    trap '' INT TERM HUP
    trap - EXIT
    [ -z "$FINISHED" ] || exit "$status"
    FINISHED=1
    [ -z "$KEEP_UP" ] || exit "$status"
    if [ "$status" != 0 ]; then
        echo "--- last lines of the logs ($WORK) ---"
        tail -n 25 "$WORK"/*.log "$WORK"/*.out 2>/dev/null || true
    fi
    teardown
    if [ -n "${CBE_KEEP_LOGS:-}" ]; then
        echo "logs kept (CBE_KEEP_LOGS): $WORK; '$HERE/run.sh stop $WORK'" \
             "removes it"
    else
        remove_work
    fi
    echo "local cloud stopped after $(( $(date +%s) - started ))s," \
         "exit status $status"
    exit "$status"
}
trap 'finish $?' EXIT
trap 'echo "SIGINT: stopping"; finish 130' INT
trap 'echo "SIGTERM: stopping"; finish 143' TERM
trap 'echo "SIGHUP: stopping"; finish 129' HUP

# A vhost of its own when rabbitmqctl can make one: the run's RPC and
# notification queues are then apart from any other cloud's, and go at once.
if command -v rabbitmqctl >/dev/null &&
        rabbitmqctl -q add_vhost "cbe_$RUN" >/dev/null 2>&1; then
    VHOST=cbe_$RUN
    rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
    TRANSPORT="rabbit://guest:guest@127.0.0.1:5672/$VHOST"
fi
STATE=$WORK/cloud.env
cat >"$STATE" <<STATE
# The local cloud's state, for 'run.sh stop $WORK'.
WORK=$WORK
DB=$DB
TOPIC=$TOPIC
VHOST=$VHOST
TRANSPORT=$TRANSPORT
PYTHON=$PYTHON
RUN=$RUN
KS_PORT=$KS_PORT
CINDER_PORT=$CINDER_PORT
CINDER_API_WORKERS=$CINDER_API_WORKERS
AUTH_URL=http://127.0.0.1:$KS_PORT/v3
PASSWORD=$PASSWORD
PGIDS=""
STATE
echo "local cloud: work folder $WORK (run $RUN)"


start() {  # name command...: in a session of its own, output in $WORK
    local name=$1; shift
    setsid "$@" </dev/null >"$WORK/$name.out" 2>&1 &
    LAST_PID=$!
    record "$LAST_PID"
    disown "$LAST_PID"  # how it ends is the teardown's business, not bash's
}

wait_http() {  # url
    for _ in $(seq 120); do
        curl -s -o /dev/null "$1" && return 0
        sleep 1
    done
    echo "$1 never answered" >&2
    return 1
}

# --- Keystone: SQLite, fernet, on gunicorn ---------------------------------
cat >"$WORK/keystone.conf" <<CONF
[DEFAULT]
log_file = $WORK/keystone.log
[database]
connection = sqlite:///$WORK/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $WORK/fernet-keys
[fernet_receipts]
key_repository = $WORK/fernet-keys
[credential]
key_repository = $WORK/credential-keys
CONF
export OS_KEYSTONE_CONFIG_FILES="$WORK/keystone.conf"
KS="keystone-manage --config-file $WORK/keystone.conf"
$KS db_sync
$KS fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
$KS credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
$KS bootstrap --bootstrap-password "$PASSWORD" \
    --bootstrap-admin-url "http://127.0.0.1:$KS_PORT/v3/" \
    --bootstrap-public-url "http://127.0.0.1:$KS_PORT/v3/" \
    --bootstrap-internal-url "http://127.0.0.1:$KS_PORT/v3/" \
    --bootstrap-region-id RegionOne
# gunicorn 27 opens a control socket, by default one path for all servers.
GUNICORN=(gunicorn --chdir "$HERE" --graceful-timeout 5)
gunicorn --help | grep -e --no-control-socket >/dev/null &&
    GUNICORN+=(--no-control-socket)
# One worker: two processes writing one SQLite file fail with "database is
# locked" (seen in CI: token issue updates user.last_active_at).
start gunicorn-keystone "${GUNICORN[@]}" -b "127.0.0.1:$KS_PORT" -w 1 \
    keystone_wsgi:application
wait_http "http://127.0.0.1:$KS_PORT/v3"

AUTH_URL="http://127.0.0.1:$KS_PORT/v3"
export OS_AUTH_URL=$AUTH_URL OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin OS_PASSWORD=$PASSWORD OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
openstack project create --or-show service >/dev/null
openstack user create --or-show --project service --password "$PASSWORD" \
    cinder >/dev/null
openstack role add --project service --user cinder admin
openstack role add --project service --user cinder service 2>/dev/null || {
    openstack role create --or-show service >/dev/null
    openstack role add --project service --user cinder service; }
# A person's own project and member user, for clouds.yaml and the checks.
openstack project create --or-show cbe-demo >/dev/null
openstack user create --or-show --project cbe-demo --password "$PASSWORD" \
    cbe-member >/dev/null
openstack role add --project cbe-demo --user cbe-member member
openstack service create --name cinderv3 block-storage >/dev/null
for interface in public internal admin; do
    openstack endpoint create --region RegionOne block-storage $interface \
        "http://127.0.0.1:$CINDER_PORT/v3/%(project_id)s" >/dev/null
done

cloud() {  # name user project
    cat <<YAML
  $1:
    auth:
      auth_url: $AUTH_URL
      username: $2
      password: $PASSWORD
      project_name: $3
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    volume_api_version: 3
YAML
}
{ echo "clouds:"; cloud cbe-admin admin admin; cloud cbe-member cbe-member cbe-demo
} >"$WORK/clouds.yaml"
cat >"$WORK/openrc" <<OPENRC
# . $WORK/openrc [member|admin]: the OS_* variables for the openstack and
# cinder (python-cinderclient) commands; member (project cbe-demo) by default.
unset OS_CLOUD OS_TOKEN
export OS_AUTH_URL=$AUTH_URL OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
export OS_PASSWORD=$PASSWORD OS_VOLUME_API_VERSION=3
if [ "\${1:-member}" = admin ]; then
    export OS_USERNAME=admin OS_PROJECT_NAME=admin
else
    export OS_USERNAME=cbe-member OS_PROJECT_NAME=cbe-demo
fi
OPENRC

# --- Cinder: MariaDB, RabbitMQ, a file-backed volume driver, posix backups --
mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
mkdir -p "$WORK/volumes" "$WORK/backups" "$WORK/state" "$WORK/locks"
# Cinder's defaults; the dashboard job changes it while Cinder runs.
echo '{}' >"$WORK/cinder-policy.yaml"
PREFIX=$(python -c 'import sys; print(sys.prefix)')
# os-brick and Cinder escalate through oslo.privsep; as root, without sudo.
PRIVSEP="$(dirname "$(command -v cinder-api)")/privsep-helper"
[ "$(id -u)" = 0 ] || PRIVSEP="sudo $PRIVSEP"
cat >"$WORK/cinder.conf" <<CONF
[DEFAULT]
state_path = $WORK/state
log_dir = $WORK
transport_url = $TRANSPORT
auth_strategy = keystone
osapi_volume_extension = cinder.api.contrib.standard_extensions
osapi_volume_extension = cinder_backup_ext.api.loader.load
enabled_backends = file
default_volume_type = __DEFAULT__
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $WORK/backups
rootwrap_config = /nonexistent/rootwrap.conf
periodic_interval = 5
periodic_fuzzy_delay = 0
graceful_shutdown_timeout = 5
api_paste_config = $PREFIX/etc/cinder/api-paste.ini
resource_query_filters_file = $PREFIX/etc/cinder/resource_filters.json
[database]
connection = mysql+pymysql://root@127.0.0.1/$DB
[file]
volume_driver = filedriver.FileVolumeDriver
volume_backend_name = file
file_volume_dir = $WORK/volumes
[keystone_authtoken]
www_authenticate_uri = $AUTH_URL
auth_url = $AUTH_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = cinder
password = $PASSWORD
service_token_roles_required = false
[oslo_concurrency]
lock_path = $WORK/locks
[oslo_policy]
policy_file = $WORK/cinder-policy.yaml
[privsep_osbrick]
helper_command = $PRIVSEP --config-file $WORK/cinder.conf
[cinder_sys_admin]
helper_command = $PRIVSEP --config-file $WORK/cinder.conf
[oslo_messaging_notifications]
driver = cinder_backup_ext
topics = $TOPIC
[cinder_backup_ext]
notification_drivers = messagingv2
CONF
# Jobs built on this cloud (billing, dashboard, chains) add or override
# options: the last value of a single-valued option in the file wins; a
# multi-valued one ([oslo_messaging_notifications] driver) gains a value.
if [ -n "${CBE_CINDER_CONF_EXTRA:-}" ]; then
    cat "$CBE_CINDER_CONF_EXTRA" >>"$WORK/cinder.conf"
fi
CINDER="--config-file $WORK/cinder.conf"
cinder-manage $CINDER db sync
cinder-backup-ext-manage $CINDER db sync
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"

# Billing's view: a listener on the run's topic, before anything is sent.
start notify-listener python "$HERE/notify_listener.py" --url "$TRANSPORT" \
    --topic "$TOPIC" --out "$WORK/notifications.jsonl"
for _ in $(seq 60); do
    grep -q '^listening' "$WORK/notify-listener.out" && break
    group_alive "$LAST_PID" || { cat "$WORK/notify-listener.out"; exit 1; }
    sleep 0.5
done
grep -q '^listening' "$WORK/notify-listener.out"

# The API as production runs it: Cinder's WSGI application (cinder.wsgi.api)
# in a WSGI server, here gunicorn with sync workers; each worker imports the
# app after the fork and loads the extensions itself.
start gunicorn-cinder-api env \
    CBE_CINDER_ARGS="$CINDER --log-file $WORK/cinder-api.log" \
    "${GUNICORN[@]}" -b "127.0.0.1:$CINDER_PORT" \
    --workers "$CINDER_API_WORKERS" --worker-class sync --timeout 180 \
    --access-logfile "$WORK/cinder-api-access.log" \
    --access-logformat '%(p)s %(m)s %(U)s %(s)s %({x-openstack-request-id}o)s %(M)sms' \
    cinder_wsgi:application
API_MASTER=$LAST_PID
echo "API_MASTER=$API_MASTER" >>"$STATE"
start cinder-scheduler cinder-scheduler $CINDER
start cinder-volume cinder-volume $CINDER
start cinder-backup cinder-backup $CINDER
wait_http "http://127.0.0.1:$CINDER_PORT/"
python "$HERE/check_cloud.py" workers --master "$API_MASTER" \
    --expect "$CINDER_API_WORKERS" --log "$WORK/cinder-api.log"
cinder-backup-ext-status $CINDER upgrade check
for _ in $(seq 60); do
    up=$(openstack volume service list -f value -c Binary -c State \
         2>/dev/null | grep -c ' up$' || true)
    [ "$up" -ge 3 ] && break
    sleep 2
done
openstack volume service list
for _ in $(seq 60); do  # the scheduler must have heard from the backend
    [ -n "$(openstack volume backend pool list -f value 2>/dev/null)" ] && break
    sleep 2
done
openstack volume backend pool list
echo "cloud up in $(( $(date +%s) - started ))s"
if [ "$MODE" = up ]; then
    # For jobs that run their own checks on the cloud: the last line names
    # the folder, whose cloud.env, clouds.yaml and openrc say the rest.
    KEEP_UP=1
    echo "Stop it with: $HERE/run.sh stop $WORK"
    echo "CBE_CLOUD_DIR=$WORK"
    exit 0
fi
how_to_use
echo "Ctrl-C stops it (every process, the database, the RabbitMQ queues," \
     "the folder)."
# The traps above stop it; until then, nothing to do.
while :; do sleep 1; done
