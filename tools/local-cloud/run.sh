#!/bin/bash
# One machine, one command: Keystone, RabbitMQ and Cinder's api, scheduler,
# volume and backup services as separate processes, with cinder-backup-ext
# loaded; then tempest: this plugin's tests and the upstream backup tests
# that need no other service. Everything started here is stopped on exit.
#
#   tox -e tempest                 # what CI runs
#   tox -e tempest -- --keep       # leave the cloud up after the tests
#
# Needs MariaDB and RabbitMQ on 127.0.0.1 (tools/test-setup.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/cbe-cloud.XXXXXX)
KEEP=""
[ "${1:-}" = "--keep" ] && KEEP=1 && shift
KS_PORT=${KS_PORT:-15000}
CINDER_PORT=${CINDER_PORT:-18776}
PASSWORD=cbe-secret
DB=cbe_tempest
PREFIX=$(python3 -c 'import sys; print(sys.prefix)')
# os-brick and Cinder escalate through oslo.privsep; as root, without sudo.
PRIVSEP="$(dirname "$(command -v cinder-api)")/privsep-helper"
[ "$(id -u)" = 0 ] || PRIVSEP="sudo $PRIVSEP"
PIDS=()
started=$(date +%s)

cleanup() {
    status=$?
    # Each service is the leader of its own process group: its workers and
    # privsep daemons go with it.
    for pid in "${PIDS[@]}"; do
        kill -- "-$pid" 2>/dev/null || true
    done
    sleep 3
    for pid in "${PIDS[@]}"; do
        kill -9 -- "-$pid" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        echo "--- last lines of the service logs ($WORK) ---"
        tail -n 30 "$WORK"/*.log || true
    fi
    mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB" || true
    echo "local cloud stopped after $(( $(date +%s) - started ))s"
    exit $status
}
trap cleanup EXIT INT TERM

start() {  # name command...
    local name=$1; shift
    setsid "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
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
log_file = $WORK/keystone-app.log
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
start keystone gunicorn --chdir "$HERE" -b "127.0.0.1:$KS_PORT" -w 2 \
    keystone_wsgi:application
wait_http "http://127.0.0.1:$KS_PORT/v3"

export OS_AUTH_URL="http://127.0.0.1:$KS_PORT/v3" OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin OS_PASSWORD=$PASSWORD OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
openstack project create --or-show service >/dev/null
openstack user create --or-show --project service --password "$PASSWORD" \
    cinder >/dev/null
openstack role add --project service --user cinder admin
openstack role add --project service --user cinder service 2>/dev/null || {
    openstack role create --or-show service >/dev/null
    openstack role add --project service --user cinder service; }
openstack service create --name cinderv3 block-storage >/dev/null
for interface in public internal admin; do
    openstack endpoint create --region RegionOne block-storage $interface \
        "http://127.0.0.1:$CINDER_PORT/v3/%(project_id)s" >/dev/null
done

# --- Cinder: MariaDB, RabbitMQ, a file-backed volume driver, posix backups --
mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
mkdir -p "$WORK/volumes" "$WORK/backups" "$WORK/state" "$WORK/locks"
cat >"$WORK/cinder.conf" <<CONF
[DEFAULT]
state_path = $WORK/state
log_dir = $WORK
transport_url = rabbit://guest:guest@127.0.0.1:5672/
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
osapi_volume_extension = cinder.api.contrib.standard_extensions
osapi_volume_extension = cinder_backup_ext.api.loader.load
enabled_backends = file
default_volume_type = __DEFAULT__
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $WORK/backups
rootwrap_config = /nonexistent/rootwrap.conf
periodic_interval = 5
periodic_fuzzy_delay = 0
api_paste_config = $PREFIX/etc/cinder/api-paste.ini
resource_query_filters_file = $PREFIX/etc/cinder/resource_filters.json
[database]
connection = mysql+pymysql://root@127.0.0.1/$DB
[file]
volume_driver = filedriver.FileVolumeDriver
volume_backend_name = file
file_volume_dir = $WORK/volumes
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:$KS_PORT/v3
auth_url = http://127.0.0.1:$KS_PORT/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = cinder
password = $PASSWORD
service_token_roles_required = false
[oslo_concurrency]
lock_path = $WORK/locks
[privsep_osbrick]
helper_command = $PRIVSEP --config-file $WORK/cinder.conf
[cinder_sys_admin]
helper_command = $PRIVSEP --config-file $WORK/cinder.conf
[oslo_messaging_notifications]
driver = cinder_backup_ext
[cinder_backup_ext]
notification_drivers = noop
CONF
CINDER="--config-file $WORK/cinder.conf"
cinder-manage $CINDER db sync
cinder-backup-ext-manage $CINDER db sync
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
start cinder-api cinder-api $CINDER
start cinder-scheduler cinder-scheduler $CINDER
start cinder-volume cinder-volume $CINDER
start cinder-backup cinder-backup $CINDER
wait_http "http://127.0.0.1:$CINDER_PORT/"
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

# --- tempest ---------------------------------------------------------------
cd "$WORK"
tempest init --name "$(basename "$WORK")" \
    --workspace-path "$WORK/workspace.yaml" tempest >/dev/null
cat >"$WORK/tempest/etc/tempest.conf" <<CONF
[DEFAULT]
log_file = $WORK/tempest.log
[auth]
admin_username = admin
admin_password = $PASSWORD
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = true
tempest_roles = member
[identity]
uri_v3 = http://127.0.0.1:$KS_PORT/v3
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[service_available]
cinder = true
nova = false
glance = false
neutron = false
swift = false
[volume]
catalog_type = block-storage
backup_driver = posix
volume_size = 1
min_microversion = 3.0
max_microversion = latest
build_timeout = 300
[volume-feature-enabled]
backup = true
api_v3 = true
[cinder_backup_ext]
extension_enabled = true
flags_visible_to_member = true
CONF
cd "$WORK/tempest"
# In the background, so that a signal reaches the trap at once.
# cinder-tempest-plugin's test_incremental_backup boots from an image: no
# image service here.
setsid tempest run --concurrency 2 \
    --regex "${TEMPEST_REGEX:-(^cinder_backup_ext\.tempest|^tempest\.api\.volume\.test_volumes_backup\.VolumesBackupsV39Test|^tempest\.api\.volume\.admin\.test_volumes_backup|^cinder_tempest_plugin\.api\.volume\.(admin\.)?test_volume_backup)}" \
    --exclude-regex "${TEMPEST_EXCLUDE:-test_volume_backup\.VolumesBackupsTest\.test_incremental_backup\b}" &
PIDS+=($!)
wait $!
echo "local cloud and tempest took $(( $(date +%s) - started ))s"
if [ -n "$KEEP" ]; then
    echo "Cloud kept up (Ctrl-C stops it): OS_AUTH_URL=$OS_AUTH_URL, admin/$PASSWORD"
    wait
fi
