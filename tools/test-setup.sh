#!/bin/bash -xe
# Prepares the database servers and the message broker that the tests use,
# the OpenStack way: an `openstack_citest` user (password `openstack_citest`)
# and an `openstack_citest` database on MariaDB/MySQL and PostgreSQL, which
# oslo.db's opportunistic test fixtures find by themselves, and RabbitMQ's
# guest/guest on 127.0.0.1:5672.
#
# A server that already answers on 127.0.0.1 is used as it is; one that does
# not is installed from Debian's packages (bindep.txt's test profile,
# tools/install-packages.sh) and started without systemd.
# Every step is idempotent: run it as often as you like.

# Also when run as `bash tools/test-setup.sh`, which ignores the #! flags.
set -xe

DB_USER=openstack_citest
DB_PW=openstack_citest

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -H"

answers() {  # host port
    timeout 2 bash -c "echo > /dev/tcp/$1/$2" 2>/dev/null
}

wait_for() {  # what host port
    for _ in $(seq 60); do
        answers "$2" "$3" && return 0
        sleep 1
    done
    echo "$1 does not answer on $2:$3" >&2
    return 1
}

install_servers() {  # once, only when a server is missing
    bash "$(dirname "$0")/install-packages.sh" test
}

# MariaDB
if ! answers 127.0.0.1 3306; then
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || \
        install_servers
    $SUDO mkdir -p /run/mysqld
    $SUDO chown mysql:mysql /run/mysqld || true
    $SUDO start-stop-daemon --start --oknodo --background \
        --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1
    wait_for MariaDB 127.0.0.1 3306
fi
MYSQL="mysql -h 127.0.0.1 -u root"
for _ in $(seq 30); do $MYSQL -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
$MYSQL <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PW';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PW';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS openstack_citest;
FLUSH PRIVILEGES;
SQL

# PostgreSQL
if ! answers 127.0.0.1 5432; then
    ls /etc/postgresql/*/main >/dev/null 2>&1 || install_servers
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    wait_for PostgreSQL 127.0.0.1 5432
fi
run_psql() {  # as the postgres superuser, over its local socket
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "psql -v ON_ERROR_STOP=1 -q"
    else
        sudo -H -u postgres psql -v ON_ERROR_STOP=1 -q
    fi
}
run_psql <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PW' CREATEDB CREATEROLE;
  ELSE
    ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PW' CREATEDB CREATEROLE;
  END IF;
END \$\$;
SQL
run_psql <<SQL
SELECT 'CREATE DATABASE openstack_citest OWNER $DB_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'openstack_citest')\gexec
SQL

# RabbitMQ
if ! answers 127.0.0.1 5672; then
    command -v rabbitmq-server >/dev/null || install_servers
    $SUDO env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached
    wait_for RabbitMQ 127.0.0.1 5672
fi
