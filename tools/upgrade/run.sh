#!/bin/bash
# A skip-level (SLURP) upgrade of Cinder's database with this plugin
# installed: 2024.1 -> 2025.1 -> 2026.1, as `tox -e upgrade` runs it.
#
#   tools/upgrade/run.sh VENVS_DIR [stestr run arguments ...]
#
# The calling environment is Cinder 28.0.0 (2026.1) with this package. The
# older releases run from virtualenvs of their own under VENVS_DIR, each
# with Cinder at that release (pinned by tools/constraints/cinder-<release>.txt)
# and this package installed in development mode, so every step runs that
# release's own `cinder-manage` and our `cinder-backup-ext-manage` beside it.
# A virtualenv is built once and reused while its inputs (the pins,
# setup.cfg, requirements.txt, the Python version) are unchanged. Where tox
# already made the test environment of that release (CBE_TOX_WORK/
# py3-cinder24, as `tox` does before this step in CI), that one is used:
# the same pins, Cinder, drivers and package in development mode.
#
# The checks are the stestr tests in tests/upgrade/ (see the docstring
# there); they find the virtualenvs through CBE_UPGRADE_VENVS.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
venvs=${1:?usage: $0 VENVS_DIR [stestr run arguments ...]}
shift
mkdir -p "$venvs"
venvs=$(cd "$venvs" && pwd)

# The releases before the one this environment runs, oldest first.
RELEASES=(24.5.0 26.3.0)
# Beside Cinder and this package: the database drivers Cinder's
# configuration names (a deployment installs its own), versions as pinned.
EXTRA=(PyMySQL psycopg2-binary)

inputs() {  # release: what the virtualenv is built from
    python3 --version
    echo "${EXTRA[*]}"
    sha256sum "$top/tools/constraints/cinder-$1.txt" "$top/setup.cfg" \
        "$top/requirements.txt" "$top/chains/setup.cfg" \
        "$top/chains/requirements.txt" | cut -d' ' -f1
}

from_tox() {  # release venv: link tox's environment of that release
    local env="${CBE_TOX_WORK:-/nonexistent}/py3-cinder${1%%.*}"
    [ "$("$env/bin/cinder-manage" --version 2>/dev/null)" = "$1" ] &&
        [ -x "$env/bin/cinder-backup-ext-manage" ] &&
        "$env/bin/python" -c 'import pymysql, psycopg2' 2>/dev/null ||
        return 1
    rm -rf "$2"
    ln -s "$env" "$2"
    echo "cinder $1: using tox's $env" >&2
}

build() {  # release
    local release=$1 venv="$venvs/cinder-$1"
    local pins="$top/tools/constraints/cinder-$release.txt"
    from_tox "$release" "$venv" && return 0
    [ -f "$pins" ] || { echo "missing $pins (tools/constraints/regenerate.sh)" >&2; return 1; }
    if [ -f "$venv/.complete" ] && [ "$(cat "$venv/.complete")" = "$(inputs "$release")" ] \
            && "$venv/bin/cinder-manage" --version >/dev/null 2>&1; then
        echo "cinder $release: reusing $venv" >&2
        return 0
    fi
    echo "cinder $release: building $venv" >&2
    local started=$SECONDS
    rm -rf "$venv"
    python3 -m venv "$venv"
    # pip's chatter goes to a log inside the virtualenv, shown on failure.
    local log="$venv/build.log"
    # The pins hold setuptools<81 where a release needs it (2024.1's
    # keystonemiddleware imports pkg_resources).
    if ! { "$venv/bin/pip" install -U pip &&
           "$venv/bin/pip" install -c "$pins" "cinder==$release" \
               "${EXTRA[@]}" -e "$top/chains" -e "$top"
         } >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "cinder $release: pip failed; the whole log is $log" >&2
        return 1
    fi
    # It imports, and the commands the upgrade runs are there.
    "$venv/bin/python" -c 'import cinder.db.migration, cinder_backup_ext.cmd.manage
import pymysql, psycopg2'
    [ "$("$venv/bin/cinder-manage" --version)" = "$release" ]
    [ -x "$venv/bin/cinder-backup-ext-manage" ]
    inputs "$release" > "$venv/.complete"
    echo "cinder $release: built in $((SECONDS - started)) s" >&2
}

# One builder at a time per directory (two tox runs may share it).
exec 9>"$venvs/.lock"
flock 9
for release in "${RELEASES[@]}"; do
    build "$release"
done
flock -u 9

export CBE_UPGRADE_VENVS="$venvs"
cd "$top"
# tests/upgrade/ is no package: the default runs (test_path ./tests) never
# collect it, and here it is its own top directory. Each test class (one
# per engine) upgrades its database once, so a class stays in one worker.
# The results go to a repository of their own ($venvs/.stestr); the
# reports (columns, indexes, plans, flags) are attachments of passing tests.
stestr --test-path ./tests/upgrade --top-dir ./tests/upgrade --parallel-class \
    --repo-url "$venvs" run --all-attachments "$@"
