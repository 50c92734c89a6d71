#!/bin/bash
# Billing end to end (`tox -e billing`): Cinder with cinder-backup-ext's
# notifier -> RabbitMQ -> ceilometer-agent-notification (etc/ceilometer/)
# -> Gnocchi (etc/gnocchi/; API + metricd, PostgreSQL indexer, file
# storage) -> CloudKitty (etc/cloudkitty/; processor + API, InfluxDB 1.x
# storage, MariaDB database, hashmap rating).
#
#   tools/billing/run.sh            # what `tox -e billing` runs after the
#                                   # tests of tests/billing/
#
# Two local clouds (tools/local-cloud/run.sh up): A with the notifier hook
# (the positive run), B with plain messagingv2 (the negative run), each
# with a project member who makes a volume, a full and two incremental
# backups, then runs cinder-volume-usage-audit. One Gnocchi and one
# CloudKitty rate both; the checks are in tools/billing/billing.py.
# Everything runs from this tox env: Ceilometer 27, Gnocchi 4.7 and
# CloudKitty 25 co-install with Cinder 29 (tools/constraints/billing-2026.2.txt).
#
# Auth: Gnocchi and CloudKitty use keystone auth (keystonemiddleware)
# against cloud A's Keystone, where the job registers the metric and
# rating services and a service user; Ceilometer and CloudKitty's
# collector authenticate as that user.
#
# Environment: BILLING_KS_PORT (15200), BILLING_CINDER_PORT (18976) for
# cloud A (cloud B uses the next port of each: ports apart from the shared
# local cloud's, so both jobs can run side by side), BILLING_GNOCCHI_PORT (18041), BILLING_CLOUDKITTY_PORT (18889),
# BILLING_INFLUX_PORT (18086; and +2 for its RPC), CBE_KEEP_LOGS=1 keeps the
# work folder (/tmp/cbe-billing.*) with every log; the services are always
# stopped, the databases dropped.
# Needs MariaDB, PostgreSQL and RabbitMQ on 127.0.0.1, and influxd
# (Debian's influxdb package; installed here when absent and root).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP"
CLOUD_SH=$TOP/tools/local-cloud/run.sh
KS_PORT=${BILLING_KS_PORT:-15200}
CINDER_PORT=${BILLING_CINDER_PORT:-18976}
KS_PORT_B=$((KS_PORT + 1))
CINDER_PORT_B=$((CINDER_PORT + 1))
GNOCCHI_PORT=${BILLING_GNOCCHI_PORT:-18041}
CK_PORT=${BILLING_CLOUDKITTY_PORT:-18889}
INFLUX_PORT=${BILLING_INFLUX_PORT:-18086}
INFLUX_RPC=$((INFLUX_PORT + 2))
PG="psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q"

PORTS="$GNOCCHI_PORT $CK_PORT $INFLUX_PORT $INFLUX_RPC"
[ -n "${BILLING_REUSE_CLOUDS:-}" ] || PORTS+=" $KS_PORT_B $CINDER_PORT_B"
for port in $PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "127.0.0.1:$port is in use; set the BILLING_*_PORT" \
             "variables (see $0)" >&2
        exit 1
    fi
done
# CloudKitty's storage, influxd: bindep.txt's billing profile.
bash "$TOP/tools/install-packages.sh" billing

started=$(date +%s)
WORK=$(mktemp -d /tmp/cbe-billing.XXXXXX)
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
GNOCCHI_DB=cbe_billing_gnocchi_$RUN
CK_DB=cbe_billing_cloudkitty_$RUN
PGIDS=""
CLOUDS=""
DBS=""
MYSQL_DBS=""
echo "billing: work folder $WORK (run $RUN)"

phase() { echo "=== $(( $(date +%s) - started ))s: $*"; }

start() {  # name command...: in a session of its own, output in $WORK
    local name=$1; shift
    setsid "$@" </dev/null >"$WORK/$name.out" 2>&1 &
    LAST=$!
    PGIDS+=" $LAST"
    disown "$LAST"
}

group_alive() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ {f=1}
                                          END {exit !f}'
}

FINISHED=""
finish() {
    local status=$1 pg alive cloud db
    trap '' INT TERM HUP
    trap - EXIT
    [ -z "$FINISHED" ] || exit "$status"
    FINISHED=1
    if [ "$status" != 0 ]; then
        echo "--- last lines of the billing logs ($WORK) ---"
        tail -n 30 "$WORK"/*.out "$WORK"/*.log 2>/dev/null | cut -c1-300 || true
    fi
    phase "stopping the billing services"
    for pg in $PGIDS; do kill -TERM -- "-$pg" 2>/dev/null || true; done
    for _ in $(seq 40); do
        alive=""
        for pg in $PGIDS; do group_alive "$pg" && alive+=" $pg"; done
        [ -z "$alive" ] && break
        sleep 0.5
    done
    for pg in $alive; do
        echo "process group $pg ignored SIGTERM: SIGKILL"
        kill -KILL -- "-$pg" 2>/dev/null || true
    done
    left=$(ps -e -o pid=,args= | grep -F "$WORK/" | grep -v -e grep -e "$$" || true)
    if [ -n "$left" ]; then
        echo "left over, killed:"; echo "$left"
        echo "$left" | awk '{print $1}' | xargs -r kill -KILL 2>/dev/null || true
    fi
    # A healthy run logs no error: every ERROR, CRITICAL or traceback in
    # the logs of the services it started (the clouds' too, before they
    # go) fails it.
    if [ "$status" = 0 ] && ! check_logs; then
        status=1
        echo "billing: FAILED: errors in the service logs (above)"
    fi
    for pg in ${PID_A:-} ${PID_B:-}; do  # a cloud still starting
        kill -TERM "$pg" 2>/dev/null && wait "$pg" 2>/dev/null || true
    done
    for cloud in $CLOUDS; do
        [ -f "$cloud/cloud.env" ] || continue
        if [ -n "${CBE_KEEP_LOGS:-}" ]; then
            cp -r "$cloud" "$WORK/$(basename "$cloud")" 2>/dev/null || true
        fi
        bash "$CLOUD_SH" stop "$cloud" | sed 's/^/  /' || true
    done
    for db in $DBS; do
        $PG -c "DROP DATABASE IF EXISTS $db" && echo "database $db dropped" || true
    done
    for db in $MYSQL_DBS; do
        mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $db" &&
            echo "database $db dropped" || true
    done
    if [ -n "${CBE_KEEP_LOGS:-}" ]; then
        echo "logs kept (CBE_KEEP_LOGS): $WORK"
    else
        rm -rf -- "$WORK"; echo "removed $WORK"
    fi
    echo "billing: done in $(( $(date +%s) - started ))s, exit status $status"
    exit "$status"
}
trap 'finish $?' EXIT
trap 'echo "SIGINT: stopping"; finish 130' INT
trap 'echo "SIGTERM: stopping"; finish 143' TERM
trap 'echo "SIGHUP: stopping"; finish 129' HUP

# Error records that are not errors, each with its traceback (the lines of
# one record share file, time and pid). Keystone logs a 409 Conflict at
# ERROR: the local clouds' `openstack ... create --or-show` get one when
# their create was retried on a loaded machine and the first try had
# stored the object.
EXPECTED_ERRORS='ERROR keystone[.a-z]* .*Conflict occurred attempting to store (project|user)'
check_logs() {  # the error lines of every service log of the run
    local found
    found=$(grep -n -E -e ' (ERROR|CRITICAL) |\[(ERROR|CRITICAL)\]' \
                -e 'lvl=(error|crit)|^(ERROR|CRITICAL):|Traceback \(most recent' \
                "$WORK"/*.log "$WORK"/*.out \
                $(for c in $CLOUDS; do echo "$c"/*.log "$c"/*.out; done) \
                2>/dev/null | grep -v -e '-access\.log:' |
            awk -v ok="$EXPECTED_ERRORS" '{
                    match($0, /^[^:]*:[0-9]+:/)
                    split(substr($0, RLENGTH + 1), f, " ")
                    key[NR] = substr($0, 1, index($0, ":")) f[1] f[2] f[3]
                    line[NR] = $0
                    if ($0 ~ ok) skip[key[NR]] = 1
                }
                END { for (i = 1; i <= NR; i++)
                          if (!(key[i] in skip)) print line[i] }' |
            cut -c1-400 || true)
    [ -z "$found" ] && return 0
    echo "--- error lines in the service logs ---"; echo "$found"
    return 1
}

wait_for() {  # "what" pgid command...: until the command succeeds
    # A state, not a time: it fails at once when the service (process group
    # pgid) that would bring it has exited; the limit only bounds a hung one.
    local what=$1 pg=$2 t0=$SECONDS; shift 2
    until "$@" >/dev/null 2>&1; do
        if ! group_alive "$pg"; then
            echo "billing: FAILED: $what: its service exited" >&2; return 1
        fi
        if (( SECONDS - t0 > 900 )); then
            echo "billing: FAILED: $what: not after 900s" >&2; return 1
        fi
        sleep 1
    done
}

# --- two clouds: A with the notifier hook, B without ------------------------
# Cinder sends each notification to two topics of the cloud's own: one for
# Ceilometer, one for a recorder (the "event on the bus" hop). Consumers
# of one topic share its queue, so each gets a topic of its own.
TOPIC_CEILO=billing_${RUN}
TOPIC_TAP=billing_${RUN}_tap
cat >"$WORK/cinder-a.conf" <<CONF
[oslo_messaging_notifications]
topics = $TOPIC_CEILO,$TOPIC_TAP
CONF
# The negative run: Cinder's own driver only. "driver" is a multi-valued
# option: a line appended to run.sh's cinder.conf adds messagingv2 beside
# cinder_backup_ext rather than replacing it (every event would then go
# out twice, once enriched); so the hook's own output goes to oslo's "log"
# driver (Cinder's log, not the bus; "noop" would fail run.sh's upgrade
# check, which warns about a hook that sends nothing).
cat "$WORK/cinder-a.conf" - >"$WORK/cinder-b.conf" <<CONF
driver = messagingv2
[cinder_backup_ext]
notification_drivers = log
CONF
cloud_up() {  # label ks_port cinder_port extra (run with &: its pid is
    # then the cloud's run.sh, which a signal makes tear the cloud down)
    KS_PORT=$2 CINDER_PORT=$3 CBE_CINDER_CONF_EXTRA=$4 \
        exec bash "$CLOUD_SH" up >"$WORK/cloud-$1.out" 2>&1
}
status_a=0 status_b=0
if [ -n "${BILLING_REUSE_CLOUDS:-}" ]; then
    # For working on this job: two clouds already up (started with
    # cinder-a.conf/cinder-b.conf's settings), used and left up.
    set -- $BILLING_REUSE_CLOUDS
    echo "CBE_CLOUD_DIR=$1" >"$WORK/cloud-a.out"
    echo "CBE_CLOUD_DIR=$2" >"$WORK/cloud-b.out"
    TOPIC_CEILO=$(sed -n 's/^topics = \([^,]*\),.*/\1/p' "$1/cinder.conf" | tail -n 1)
    TOPIC_TAP=${TOPIC_CEILO}_tap
else
    phase "starting cloud A (hook on, Keystone :$KS_PORT) and B (hook off," \
          "Keystone :$KS_PORT_B)"
    cloud_up a "$KS_PORT" "$CINDER_PORT" "$WORK/cinder-a.conf" & PID_A=$!
    sleep 20  # their first steps (db_sync) are the heaviest: not at once
    cloud_up b "$KS_PORT_B" "$CINDER_PORT_B" "$WORK/cinder-b.conf" & PID_B=$!
    wait $PID_A || status_a=$?
    wait $PID_B || status_b=$?
fi
for label in a b; do
    dir=$(sed -n 's/^CBE_CLOUD_DIR=//p' "$WORK/cloud-$label.out")
    [ -z "$dir" ] && dir=$(sed -n 's/^local cloud: work folder \([^ ]*\).*/\1/p' \
                          "$WORK/cloud-$label.out")
    [ -n "$dir" ] && [ -z "${BILLING_REUSE_CLOUDS:-}" ] && CLOUDS+=" $dir"
    eval "CLOUD_${label^^}=\$dir"
done
if [ "$status_a" != 0 ] || [ "$status_b" != 0 ]; then
    tail -n 30 "$WORK"/cloud-*.out
    echo "a local cloud did not start" >&2
    exit 1
fi
grep -h '^cloud up in' "$WORK"/cloud-*.out || true
# shellcheck source=/dev/null
A_TRANSPORT=$(. "$CLOUD_A/cloud.env"; echo "$TRANSPORT")
# shellcheck source=/dev/null
B_TRANSPORT=$(. "$CLOUD_B/cloud.env"; echo "$TRANSPORT")
grep -q "^notification_drivers = log" "$CLOUD_B/cinder.conf"
grep -q "^driver = cinder_backup_ext" "$CLOUD_A/cinder.conf"

# --- Keystone (cloud A's): the billing services and their user ----------------
phase "registering metric and rating in cloud A's Keystone"
PASSWORD=$(. "$CLOUD_A/openrc" admin; echo "$OS_PASSWORD")
python "$HERE/billing.py" keystone-setup --admin "$CLOUD_A/clouds.yaml" \
    --password "$PASSWORD" --gnocchi-url "http://127.0.0.1:$GNOCCHI_PORT" \
    --cloudkitty-url "http://127.0.0.1:$CK_PORT"
AUTH_URL=http://127.0.0.1:$KS_PORT/v3
project_id() {  # cloud dir
    (. "$1/openrc" admin; openstack project show cbe-demo -f value -c id)
}
PROJECT_A=$(project_id "$CLOUD_A")
PROJECT_B=$(project_id "$CLOUD_B")
ks_section() {  # the service user, as keystoneauth options
    cat <<CONF
auth_type = password
auth_url = $AUTH_URL
username = cbe-billing
password = $PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
CONF
}
authtoken_section() {
    echo "[keystone_authtoken]"
    echo "www_authenticate_uri = $AUTH_URL"
    ks_section
    echo "service_token_roles_required = false"
}

# --- Gnocchi: PostgreSQL indexer, file storage and incoming -----------------
phase "Gnocchi: indexer $GNOCCHI_DB, API :$GNOCCHI_PORT, metricd"
$PG -c "CREATE DATABASE $GNOCCHI_DB"
DBS+=" $GNOCCHI_DB"
mkdir -p "$WORK/gnocchi"
cat >"$WORK/gnocchi.conf" <<CONF
[DEFAULT]
log_file = $WORK/gnocchi.log
[api]
auth_mode = keystone
paste_config = $WORK/gnocchi-api-paste.ini
[indexer]
url = postgresql://postgres@127.0.0.1:5432/$GNOCCHI_DB
[storage]
driver = file
file_basepath = $WORK/gnocchi
[incoming]
driver = file
[metricd]
workers = 1
metric_processing_delay = 2
$(authtoken_section)
CONF
# Gnocchi's own paste file has keystonemiddleware read the configuration
# of the project "gnocchi" from /etc; this one names the job's file.
cat >"$WORK/gnocchi-api-paste.ini" <<CONF
[composite:gnocchi+keystone]
use = egg:Paste#urlmap
/ = versions
/v1 = v1
[app:versions]
paste.app_factory = gnocchi.rest.app:app_factory
root = gnocchi.rest.api.VersionsController
[pipeline:v1]
pipeline = authtoken v1app
[app:v1app]
paste.app_factory = gnocchi.rest.app:app_factory
root = gnocchi.rest.api.V1Controller
[filter:authtoken]
use = egg:keystonemiddleware#auth_token
oslo_config_project = gnocchi
oslo_config_file = $WORK/gnocchi.conf
CONF
gnocchi-upgrade --config-file "$WORK/gnocchi.conf" >"$WORK/gnocchi-upgrade.out" 2>&1
GUNICORN=(gunicorn --chdir "$HERE" --graceful-timeout 5)
gunicorn --help | grep -e --no-control-socket >/dev/null &&
    GUNICORN+=(--no-control-socket)
start gnocchi-metricd gnocchi-metricd --config-file "$WORK/gnocchi.conf"
start gnocchi-api env GNOCCHI_CONF="$WORK/gnocchi.conf" "${GUNICORN[@]}" \
    -b "127.0.0.1:$GNOCCHI_PORT" -w 1 -k gthread --threads 4 \
    --access-logfile "$WORK/gnocchi-access.log" gnocchi_wsgi:application
wait_for "gnocchi-api to answer" "$LAST" curl -sf "http://127.0.0.1:$GNOCCHI_PORT/"
python "$HERE/billing.py" gnocchi-setup --admin "$CLOUD_A/clouds.yaml"

# --- CloudKitty: InfluxDB storage (v2), hashmap -----------------------------
phase "InfluxDB :$INFLUX_PORT; CloudKitty API :$CK_PORT and processor"
mkdir -p "$WORK/influxdb"
cat >"$WORK/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$INFLUX_RPC"
[meta]
  dir = "$WORK/influxdb/meta"
[data]
  dir = "$WORK/influxdb/data"
  wal-dir = "$WORK/influxdb/wal"
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
CONF
start influxd influxd -config "$WORK/influxdb.conf"
wait_for "influxd to answer" "$LAST" curl -sf "http://127.0.0.1:$INFLUX_PORT/ping"
curl -sf -XPOST "http://127.0.0.1:$INFLUX_PORT/query" \
    --data-urlencode "q=CREATE DATABASE cloudkitty" >/dev/null
# CloudKitty's database on MariaDB: on PostgreSQL, CloudKitty 25.0.0's
# `cloudkitty-dbsync upgrade` fails with SQLAlchemy 2 (the hashmap
# migration f8c799db4aa0 executes a plain SQL string in its PostgreSQL
# branch: ObjectNotExecutableError).
mysql -h 127.0.0.1 -u root -e "CREATE DATABASE $CK_DB"
MYSQL_DBS+=" $CK_DB"
# The shipped metrics file, at this job's one-minute period: CloudKitty
# queries Gnocchi at force_granularity, which must equal the period.
python - "$TOP/etc/cloudkitty/metrics.yml" "$WORK/metrics.yml" <<'PY'
import sys, yaml
conf = yaml.safe_load(open(sys.argv[1]))
conf['metrics']['backup.size']['extra_args']['force_granularity'] = 60
yaml.safe_dump(conf, open(sys.argv[2], 'w'))
PY
cat >"$WORK/cloudkitty.conf" <<CONF
[DEFAULT]
log_dir = $WORK
transport_url = $A_TRANSPORT
auth_strategy = keystone
api_paste_config = $HERE/cloudkitty-api-paste.ini
[database]
connection = mysql+pymysql://root@127.0.0.1/$CK_DB
[storage]
version = 2
backend = influxdb
[storage_influxdb]
host = 127.0.0.1
port = $INFLUX_PORT
database = cloudkitty
[collect]
collector = gnocchi
period = 60
wait_periods = 1
metrics_conf = $WORK/metrics.yml
[fetcher]
backend = gnocchi
[fetcher_gnocchi]
auth_section = ks_auth
region_name = RegionOne
resource_types = cinder_backup
scope_attribute = project_id
[collector_gnocchi]
auth_section = ks_auth
region_name = RegionOne
[orchestrator]
coordination_url = file://$WORK/cloudkitty-locks
max_workers = 1
[ks_auth]
$(ks_section)
$(authtoken_section)
CONF
cloudkitty-dbsync --config-file "$WORK/cloudkitty.conf" upgrade \
    >"$WORK/cloudkitty-dbsync.out" 2>&1
cloudkitty-storage-init --config-file "$WORK/cloudkitty.conf" \
    >"$WORK/cloudkitty-storage-init.out" 2>&1
start cloudkitty-api env CLOUDKITTY_CONF="$WORK/cloudkitty.conf" \
    "${GUNICORN[@]}" -b "127.0.0.1:$CK_PORT" -w 1 \
    --access-logfile "$WORK/cloudkitty-access.log" cloudkitty_wsgi:application
wait_for "cloudkitty-api to answer" "$LAST" curl -sf "http://127.0.0.1:$CK_PORT/"
python "$HERE/billing.py" cloudkitty-setup --admin "$CLOUD_A/clouds.yaml"
python "$HERE/billing.py" seed-state --ck-conf "$WORK/cloudkitty.conf" \
    "$PROJECT_A" "$PROJECT_B"
# The processor starts once Gnocchi holds every measure (below).

# --- Ceilometer: one notification agent per cloud, to the one Gnocchi -----
phase "ceilometer-agent-notification for clouds A and B"
cinder-backup-ext-merge-resources "$WORK/gnocchi_resources.yaml"
cat >"$WORK/pipeline.yaml" <<CONF
---
sources:
  - name: backups
    meters:
      - backup.size
    sinks:
      - gnocchi
sinks:
  - name: gnocchi
    publishers:
      - gnocchi://?filter_project=service&resources_definition_file=$WORK/gnocchi_resources.yaml
CONF
CEILO_DATA=$(python -c 'import os, ceilometer
print(os.path.join(os.path.dirname(ceilometer.__file__), "data", "meters.d"))')
for label in a b; do
    transport=$A_TRANSPORT
    [ $label = b ] && transport=$B_TRANSPORT
    cat >"$WORK/ceilometer-$label.conf" <<CONF
[DEFAULT]
transport_url = $transport
pipeline_cfg_file = $WORK/pipeline.yaml
log_file = $WORK/ceilometer-$label.log
[oslo_messaging_notifications]
topics = $TOPIC_CEILO
[notification]
workers = 1
pipelines = meter
[meter]
meter_definitions_dirs = $TOP/etc/ceilometer/meters.d
meter_definitions_dirs = $CEILO_DATA
[service_credentials]
$(ks_section)
interface = public
# Without a cache, Ceilometer 27 makes an oslo_cache.dict region, which
# dogpile finds by loading every dogpile.cache entry point: the failed
# import of oslo_cache.memcache_pool (no python-memcached) is logged as
# an ERROR. dogpile's own in-memory backend is the same cache, found
# without that.
[cache]
enabled = true
backend = dogpile.cache.memory
CONF
    start "ceilometer-$label" ceilometer-agent-notification \
        --config-file "$WORK/ceilometer-$label.conf"
    eval "CEILO_${label^^}=\$LAST"
    start "bus-$label" python "$TOP/tools/local-cloud/notify_listener.py" \
        --url "$transport" --topic "$TOPIC_TAP" --out "$WORK/bus-$label.jsonl"
    eval "BUS_${label^^}=\$LAST"
done
for label in a b; do
    pg=BUS_${label^^}
    wait_for "the bus tap of cloud $label to listen" "${!pg}" \
        grep -q '^listening' "$WORK/bus-$label.out"
    pg=CEILO_${label^^}
    wait_for "ceilometer-$label to load the meter definitions" "${!pg}" \
        grep -q "Skipping duplicate meter definition" "$WORK/ceilometer-$label.log"
done

# --- the scenario, then the checks -----------------------------------------
phase "cloud A (hook on): volume, full backup, two incrementals, usage audit"
python "$HERE/billing.py" scenario --cloud-dir "$CLOUD_A" --label positive \
    --out "$WORK/positive.json"
phase "cloud B (hook off): the same"
python "$HERE/billing.py" scenario --cloud-dir "$CLOUD_B" --label negative \
    --out "$WORK/negative.json"

phase "on the bus (tap on the clouds' notification topic): backup events"
python - "$WORK/bus-a.jsonl" "$WORK/bus-b.jsonl" <<'PY'
import json, sys
for path, hook in zip(sys.argv[1:], ('hook on', 'hook off')):
    n = 0
    for line in open(path):
        m = json.loads(line)
        if not m['event_type'].startswith('backup.'):
            continue
        p = m['payload']
        if ('is_incremental' in p) != (hook == 'hook on'):
            sys.exit('%s: %s %s: is_incremental %s' % (
                hook, m['event_type'], p.get('backup_id'),
                p.get('is_incremental', 'absent')))
        if m['event_type'] in ('backup.create.end', 'backup.exists'):
            print('  %-8s %-17s %s is_incremental=%s parent_id=%s' % (
                hook, m['event_type'], p['backup_id'],
                p.get('is_incremental', '(absent)'), p.get('parent_id')))
            n += 1
    if not n:
        sys.exit('no backup event recorded in %s' % path)
PY

# CloudKitty rates each window once; the measures of a window that reach
# Gnocchi after that are never rated. So its processor starts only when
# Gnocchi holds every measure the bus carried and the last window with one
# is over: its first cycle then rates every window, complete.
phase "checks: Gnocchi holds every measure of the bus; backup_type"
python "$HERE/billing.py" gnocchi-check --admin "$CLOUD_A/clouds.yaml" \
    --positive "$WORK/positive.json" --bus "$WORK/bus-a.jsonl" \
    --negative "$WORK/negative.json" --bus "$WORK/bus-b.jsonl"
phase "CloudKitty processor: rating every window; checks of the rated data"
start cloudkitty-processor cloudkitty-processor \
    --config-file "$WORK/cloudkitty.conf"
python "$HERE/billing.py" cloudkitty-check --admin "$CLOUD_A/clouds.yaml" \
    --positive "$WORK/positive.json" --negative "$WORK/negative.json"
phase "billing end to end: passed"
