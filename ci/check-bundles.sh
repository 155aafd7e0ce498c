#!/usr/bin/env bash
# Check every fixpack bundle a merge request (pull request) changes, each on its own:
# `fixpack verify` (every file against manifest.json) and `fixpack lint` first; only a bundle that
# passed both is rehearsed (`fixpack rehearse`). Every bundle is reported (one JUnit <testsuite>
# each, in $FIXPACK_REPORT_DIR/junit.xml) and the job fails if any failed.
#
# Fails closed: a base that cannot be resolved, a missing bundle root, a changed file under the
# root that belongs to no bundle, a deleted manifest.json, or a manifest.json edited after it was
# merged is an error with a message, never "nothing to check".
#
#   usage: ci/check-bundles.sh BASE        BASE: the commit the request is compared with
#   FIXPACK                   the fixpack command (default: fixpack)
#   FIXPACK_BUNDLE_ROOT       where bundles live in this repository (default: bundles)
#   FIXPACK_REHEARSE_BACKEND  fixpack rehearse --backend (default: env, i.e. $FIXPACK_TEST_DB_URL)
#   FIXPACK_REPORT_DIR        outputs and junit.xml (default: fixpack-report)
#
# Exit: 0 every changed bundle passed (or no bundle changed), 1 a bundle failed, 2 cannot check.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixpack=${FIXPACK:-fixpack}
root=${FIXPACK_BUNDLE_ROOT:-bundles}
root=${root%/}
backend=${FIXPACK_REHEARSE_BACKEND:-env}
report=${FIXPACK_REPORT_DIR:-fixpack-report}
mkdir -p "$report"
report=$(cd "$report" && pwd)
rm -rf "$report/bundles" "$report/junit.xml"
mkdir -p "$report/bundles"

say() { echo "check-bundles: $*"; }
die() {
    echo "check-bundles: ERROR: $*" >&2
    python3 "$here/junit.py" error "$report" "$*" || true
    exit 2
}

base=${1:-}
[ -n "$base" ] || die "no base commit given (GitLab: \$CI_MERGE_REQUEST_DIFF_BASE_SHA in a merge request" \
    "pipeline; GitHub: github.event.pull_request.base.sha in a pull_request workflow)"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$(pwd) is not a git work tree"
cd "$(git rev-parse --show-toplevel)"
base_commit=$(git rev-parse --verify --quiet "$base^{commit}") ||
    die "cannot resolve the base '$base': fetch the whole history (GitLab GIT_DEPTH: 0, GitHub fetch-depth: 0)"
merge_base=$(git merge-base "$base_commit" HEAD) ||
    die "the base '$base' and HEAD have no common ancestor: fetch the whole history"
command -v "$fixpack" >/dev/null 2>&1 || die "fixpack command '$fixpack' not found (set FIXPACK)"
[ -d "$root" ] || die "the bundle root '$root' is not a directory in this repository (set FIXPACK_BUNDLE_ROOT)"

# every changed path under the root -> the bundle directory holding it (at HEAD, or at the base)
git diff -z --name-status --no-renames "$merge_base" HEAD -- "$root/" >"$report/changed.z" ||
    die "git diff between ${base_commit:0:12} and HEAD failed"
declare -A bundles=() problems=() removed=()
changed=0
while IFS= read -r -d '' status && IFS= read -r -d '' path; do
    changed=$((changed + 1))
    d=$(dirname "$path")
    [ "$d" != "$root" ] || continue # the root's own files (a README): not part of any bundle
    found=
    while [ "$d" != "$root" ] && [ "$d" != . ] && [ "$d" != / ]; do
        if [ -f "$d/manifest.json" ] || git cat-file -e "$merge_base:$d/manifest.json" 2>/dev/null; then
            found=$d
            break
        fi
        d=$(dirname "$d")
    done
    if [ -z "$found" ]; then
        problems["$(dirname "$path")"]="$path changed but is in no bundle directory (no manifest.json above it under $root/)"
        continue
    fi
    if [ ! -f "$found/manifest.json" ]; then
        if [ -n "$(git ls-files -- "$found")" ]; then
            problems["$found"]="manifest.json was deleted but the bundle's other files remain: the bundle cannot be verified (restore the manifest, or remove the whole directory)"
        else
            removed["$found"]=1
        fi
        continue
    fi
    if [ "$path" = "$found/manifest.json" ] && [ "$status" = M ]; then
        problems["$found"]="manifest.json was edited after the bundle was merged: fixpack writes it at generation and nothing edits it (regenerate into a new directory)"
        continue
    fi
    bundles["$found"]=1
done <"$report/changed.z"

for d in "${!problems[@]}"; do unset 'bundles[$d]'; done
for d in "${!removed[@]}"; do say "$d: bundle removed by this change (nothing left to check)"; done
if [ "${#bundles[@]}" -eq 0 ] && [ "${#problems[@]}" -eq 0 ]; then
    if [ "${#removed[@]}" -gt 0 ]; then
        say "no changed bundle left to check (${#removed[@]} removed)"
    else
        say "no bundle changed ($changed changed file(s) under $root/ since ${base_commit:0:12})"
    fi
    python3 "$here/junit.py" report "$report"
    exit 0
fi

n=0
for d in "${!problems[@]}"; do
    n=$((n + 1))
    out="$report/bundles/$n"
    mkdir -p "$out"
    printf '%s\n' "$d" >"$out/path"
    printf '%s\n' "${problems[$d]}" >"$out/problem"
done
mapfile -t sorted < <(printf '%s\n' "${!bundles[@]}" | sort)
for b in "${sorted[@]}"; do
    [ -n "$b" ] || continue
    n=$((n + 1))
    out="$report/bundles/$n"
    mkdir -p "$out"
    printf '%s\n' "$b" >"$out/path"
    say "== $b"
    for step in verify lint; do
        rc=0
        "$fixpack" "$step" "$b" >"$out/$step.out" 2>&1 || rc=$?
        echo "$rc" >"$out/$step.rc"
        sed 's/^/   /' "$out/$step.out"
    done
    if [ "$(cat "$out/verify.rc")" = 0 ] && [ "$(cat "$out/lint.rc")" = 0 ]; then
        rc=0
        "$fixpack" rehearse "$b" --backend "$backend" --junit "$out/rehearse.xml" >"$out/rehearse.out" 2>&1 || rc=$?
        echo "$rc" >"$out/rehearse.rc"
        sed 's/^/   /' "$out/rehearse.out"
    fi
done

python3 "$here/junit.py" report "$report"
