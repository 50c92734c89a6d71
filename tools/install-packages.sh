#!/bin/bash
# Installs the Debian packages of bindep.txt that are missing here, for the
# given profiles (all of them without one): what a job runs this for is
# installed before it starts, and nothing is installed twice.
#
#   tools/install-packages.sh [PROFILE ...]     # test dashboard billing galera ceph glusterfs
#
# bindep comes from the tox environment, or from CI's tox virtualenv.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- test dashboard billing galera ceph glusterfs
command -v bindep >/dev/null || {
    echo "bindep is not installed here: pip install bindep" >&2
    exit 2
}
status=0
missing=$(bindep --file "$top/bindep.txt" --brief "$@") || status=$?
# bindep's exit status is 1 when something is missing, 2 and up on errors.
[ "$status" -le 1 ] || { echo "bindep failed ($status): $missing" >&2; exit 1; }
[ -n "$missing" ] || exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
echo "installing Debian packages for $*:" $missing
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $missing >/dev/null
