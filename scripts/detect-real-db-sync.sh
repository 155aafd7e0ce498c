#!/usr/bin/env bash
# Does `fixpack schema detect` name the right release for databases built by
# the real services' own `db sync` of that release?
#
#   scripts/detect-real-db-sync.sh [RELEASE ...]    (default: zed 2023.1 2024.1 2025.2 2026.2)
#
# For each release this
#   1. runs `python -m generator.capture --mode db-sync` against a
#      private scratch MariaDB: that release's own nova, cinder and
#      openstack-placement packages (pinned by generator/catalog/constraints/)
#      in throwaway venvs run their plain `db sync`; the captured schemas go to
#      a temporary --output-dir and are --compare'd with the shipped catalog;
#   2. runs `fixpack schema detect` on the four databases so built and prints
#      PASS when the release is among the candidates common to all four;
#   3. where the nova database's answer is ambiguous (releases sharing one
#      schema head), inserts the one `services` row a registered nova-compute
#      of that release writes and runs detect again: PASS when the candidates
#      are then exactly the releases with that head and that compute service
#      version (for 2025.1/2025.2/2026.1: the release alone).
#
# Needs: a MariaDB server binary (mariadbd), network access to PyPI, the
# Python interpreters declared per release in generator/catalog/declared.py
# (pyenv's are found), and fixpack importable by $PYTHON (default python3).
# Venvs are cached under ~/.cache/fixpack-capture; the shipped catalog is not
# touched. Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
if [ "$#" -gt 0 ]; then
    RELEASES=("$@")
else
    RELEASES=(zed 2023.1 2024.1 2025.2 2026.2)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fixpack-detect-XXXXXX")
SERVER_PID=""

# shellcheck disable=SC2317,SC2329  # called by the EXIT trap
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cd "$ROOT"

# Small helpers in Python (fixpack's own modules; no mysql client needed).
cat >"$WORK/helper.py" <<'PY'
import json
import signal
import sys
from pathlib import Path

import pymysql

from generator import catalog
from generator.connect.urls import parse_url


def connect(url, database=None):
    u = parse_url(url)
    return pymysql.connect(host=u.host, port=u.port, user=u.user, database=database, autocommit=True)


def nova_of(out):
    return next(d for d in out["databases"] if d["kind"] == "nova")


def main(cmd, *args):
    if cmd == "serve":  # PORTFILE: a scratch MariaDB until SIGTERM (which deletes it)
        from generator.scratch.server import ScratchServer

        server = ScratchServer().start()
        signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
        Path(args[0]).write_text(str(server.port))
        while True:
            signal.pause()
    if cmd == "server-version":  # SERVER
        cur = connect(args[0]).cursor()
        cur.execute("SELECT VERSION()")
        print(cur.fetchone()[0])
        return 0
    if cmd == "has-db":  # SERVER DB: exit 0 if the database exists
        return 0 if connect(args[0]).cursor().execute("SHOW DATABASES LIKE %s", (args[1],)) else 1
    if cmd == "service-version":  # RELEASE: its nova-compute service version (catalog)
        print(catalog.get_release(args[0]).compute_service_version)
        return 0
    if cmd == "register-compute":  # SERVER DB VERSION: the row a registered nova-compute writes
        connect(args[0], args[1]).cursor().execute(
            "INSERT INTO services (created_at, updated_at, host, `binary`, topic, report_count, "
            "disabled, deleted, last_seen_up, forced_down, version, uuid) VALUES "
            "(NOW(), NOW(), 'compute-1', 'nova-compute', 'compute', 1, 0, 0, NOW(), 0, %s, UUID())",
            (int(args[2]),),
        )
        return 0
    out = json.load(sys.stdin)  # `fixpack schema detect --format json`
    if cmd == "nova-confidence":
        print(nova_of(out)["confidence"])
        return 0
    release, common, nova = args[0], out["common_releases"], nova_of(out)
    if cmd == "judge-any":  # RELEASE among the releases all four databases agree on
        ok = release in common
        print(
            f"{'PASS' if ok else 'FAIL'}: {release} is {'' if ok else 'NOT '}among the candidates "
            f"common to all four databases ({', '.join(common) or 'none'})"
        )
        return 0
    # judge-service: nova's candidates are the releases sharing its head and service version
    me = catalog.get_release(release)
    want = [
        r.name
        for r in catalog.releases()
        if r.heads["nova"] == me.heads["nova"] and r.compute_service_version == me.compute_service_version
    ]
    ok = nova["candidates"] == want and release in common
    print(
        f"{'PASS' if ok else 'FAIL'}: nova database is {nova['confidence']}: "
        f"{', '.join(nova['candidates'])} (expected {', '.join(want)}); "
        f"all four databases consistent with: {', '.join(common) or 'none'}"
    )
    return 0


sys.exit(main(*sys.argv[1:]))
PY
helper() { "$PYTHON" "$WORK/helper.py" "$@"; }
detect() { "$PYTHON" -m generator schema detect "$@"; }

# A private scratch MariaDB, alive until this script ends.
"$PYTHON" "$WORK/helper.py" serve "$WORK/port" &  # not via helper(): $! must be python itself
SERVER_PID=$!
for _ in $(seq 1 120); do
    [ -s "$WORK/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "scratch server failed to start" >&2; exit 1; }
    sleep 0.5
done
[ -s "$WORK/port" ] || { echo "scratch server did not start in 60s" >&2; exit 1; }
SERVER="mysql+pymysql://root@127.0.0.1:$(cat "$WORK/port")"
echo "started: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -sm), $(nproc) cores"
echo "fixpack: $("$PYTHON" -c 'import generator; print(generator.__version__)') from $ROOT ($("$PYTHON" --version))"
echo "scratch server: $SERVER ($(helper server-version "$SERVER"))"
echo "releases: ${RELEASES[*]}"
echo

FAILED=0
SUMMARY=()
for rel in "${RELEASES[@]}"; do
    db="fixpack_capture_${rel//[^A-Za-z0-9_]/_}"
    urls=(
        --nova-api-url "$SERVER/${db}_nova_api"
        --nova-url "$SERVER/${db}_nova"
        --placement-url "$SERVER/${db}_placement"
        --cinder-url "$SERVER/${db}_cinder"
    )
    echo "======================================================================"
    echo "== $rel: the release's own db sync (capture --mode db-sync --compare)"
    echo "======================================================================"
    started=$SECONDS
    capture_rc=0
    "$PYTHON" -m generator.capture --mode db-sync --release "$rel" \
        --output-dir "$WORK/catalog" --server-url "$SERVER" --compare --keep-databases 2>&1 \
        || capture_rc=$?
    echo "capture exit status: $capture_rc ($((SECONDS - started))s)"
    if ! helper has-db "$SERVER" "${db}_nova"; then
        echo "FAIL: $rel: db sync did not build the databases (see above)"
        SUMMARY+=("$rel: FAIL (db sync did not complete)")
        FAILED=1
        echo
        continue
    fi

    echo
    echo "-- $rel: fixpack schema detect (as db sync left them: no nova-compute registered)"
    detect "${urls[@]}" || true
    verdict=$(detect "${urls[@]}" --format json | helper judge-any "$rel") || true
    echo "$verdict"
    line="$rel: detect ${verdict%%:*}"
    [[ $verdict == PASS* ]] || FAILED=1
    if [ "$capture_rc" -ne 0 ]; then
        line+=", capture/compare exit $capture_rc"
        FAILED=1
    fi

    confidence=$(detect "${urls[@]}" --format json | helper nova-confidence) || true
    if [ "$confidence" = "ambiguous" ]; then
        version=$(helper service-version "$rel")
        echo
        echo "-- $rel: register one nova-compute the way a $rel compute does" \
            "(services row: binary nova-compute, deleted 0, version $version), detect again"
        helper register-compute "$SERVER" "${db}_nova" "$version"
        detect "${urls[@]}" || true
        verdict=$(detect "${urls[@]}" --format json | helper judge-service "$rel") || true
        echo "$verdict"
        line+=", with a registered compute ${verdict%%:*}"
        [[ $verdict == PASS* ]] || FAILED=1
    fi
    SUMMARY+=("$line ($((SECONDS - started))s)")
    echo
done

echo "======================================================================"
echo "== summary ($SECONDS s in all)"
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
