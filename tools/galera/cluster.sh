#!/bin/bash
# A 3-node MariaDB Galera cluster on this machine, for tests and benchmarks.
#
#   tools/galera/cluster.sh start DIR    # three mariadbd, datadirs in DIR
#   tools/galera/cluster.sh stop DIR     # stop them (DIR is left to the caller)
#
# Debian's mariadb-server and galera-4 (bindep.txt's galera profile,
# installed if missing). Node N
# (1..3) listens for clients on 127.0.0.1:$((GALERA_PORT+N-1)) (13306..),
# for Galera on 14567.., IST on 14577.., SST (rsync) on 14587..; node 1
# bootstraps the cluster (--wsrep-new-cluster), 2 and 3 join it. Nothing
# touches the server on 3306. Root has no password on these nodes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ACTION=${1:?start or stop}
DIR=${2:?a directory}
BASE=${GALERA_PORT:-13306}
GCOMM=${GALERA_GCOMM_PORT:-14567}
PROVIDER=/usr/lib/galera/libgalera_smm.so

install_if_missing() {  # bindep.txt's galera profile
    bash "$HERE/../install-packages.sh" galera
}

node_conf() {
    local n=$1 members=$2
    cat <<CONF
[mariadbd]
datadir = $DIR/node$n/data
socket = $DIR/node$n/mysql.sock
pid-file = $DIR/node$n/mariadbd.pid
log-error = $DIR/node$n/error.log
bind-address = 127.0.0.1
port = $((BASE + n - 1))
user = $(id -un)
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 128M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
max_connections = 300
wsrep_on = ON
wsrep_provider = $PROVIDER
wsrep_cluster_name = cbe_galera
wsrep_cluster_address = gcomm://$members
wsrep_node_name = node$n
wsrep_node_address = 127.0.0.1:$((GCOMM + n - 1))
wsrep_node_incoming_address = 127.0.0.1:$((BASE + n - 1))
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$((GCOMM + n - 1));ist.recv_addr=127.0.0.1:$((GCOMM + 10 + n - 1));gcache.size=128M"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:$((GCOMM + 20 + n - 1))
wsrep_slave_threads = 2
CONF
}

wait_synced() {
    local n=$1
    for _ in $(seq 180); do
        state=$(mariadb -S "$DIR/node$n/mysql.sock" -u root -N -e \
            "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2) || true
        [ "$state" = Synced ] && return 0
        sleep 1
    done
    echo "node$n did not reach Synced; its log:" >&2
    tail -30 "$DIR/node$n/error.log" >&2
    return 1
}

start_node() {
    local n=$1 extra=${2:-}
    # setsid: the nodes stay out of the caller's process group; stop ends
    # them by their pid files.
    setsid mariadbd --defaults-file="$DIR/node$n/my.cnf" $extra \
        >>"$DIR/node$n/stdout.log" 2>&1 </dev/null &
    wait_synced "$n"
}

start() {
    install_if_missing
    local members="127.0.0.1:$GCOMM,127.0.0.1:$((GCOMM + 1)),127.0.0.1:$((GCOMM + 2))"
    for n in 1 2 3; do
        mkdir -p "$DIR/node$n"
        node_conf $n "$members" >"$DIR/node$n/my.cnf"
    done
    # One datadir, bootstrapped once and copied after a clean shutdown: the
    # three nodes then share the cluster's state and join quickly.
    mariadb-install-db --defaults-file="$DIR/node1/my.cnf" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$DIR/node1/install.log" 2>&1
    start_node 1 --wsrep-new-cluster
    mariadb -S "$DIR/node1/mysql.sock" -u root -e \
        "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION"
    stop_node 1
    for n in 2 3; do
        cp -a "$DIR/node1/data" "$DIR/node$n/data"
        # A joiner that missed a few writes still gets them through the SST
        # script, whose rsync daemon, started as root, writes as 'nobody'.
        chmod -R a+rwX "$DIR/node$n/data"
    done
    chmod 755 "$DIR" "$DIR"/node?
    start_node 1 --wsrep-new-cluster
    start_node 2
    start_node 3
    mariadb -S "$DIR/node1/mysql.sock" -u root -N -e \
        "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_incoming_addresses')"
}

stop_node() {
    local n=$1 pidfile="$DIR/node$1/mariadbd.pid" pid
    [ -e "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 120); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    for n in 3 2 1; do
        stop_node $n
    done
}

"$ACTION"
