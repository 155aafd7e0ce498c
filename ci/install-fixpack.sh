#!/usr/bin/env bash
# Install fixpack into a virtualenv from a source the user controls, never a bare name from a
# public index (whoever registers the name there would run code in the pipeline).
#
#   FIXPACK_SOURCE   one of:
#                    - git+https://HOST/PATH.git@COMMIT  the fixpack repository at a full 40-hex commit
#                    - a path to a wheel built from it   (python3 -m pip wheel --no-deps -w DIR <checkout>)
#                    - fixpack==VERSION, with FIXPACK_INDEX_URL naming your internal index (used as
#                      the only index, for fixpack and its dependencies)
#   FIXPACK_CONSTRAINTS  optional: constraints file (fixpack's constraints/runtime.txt) for the dependencies
#   FIXPACK_VENV     the virtualenv to create (default .fixpack-venv); fixpack is $FIXPACK_VENV/bin/fixpack
set -euo pipefail

die() {
    echo "install-fixpack: ERROR: $*" >&2
    exit 2
}

source=${FIXPACK_SOURCE:-}
venv=${FIXPACK_VENV:-.fixpack-venv}
index=()
case "$source" in
    "")
        die "FIXPACK_SOURCE is not set: name the fixpack repository at a pinned commit" \
            "(git+https://HOST/PATH.git@COMMIT), a wheel built from it, or fixpack==VERSION with FIXPACK_INDEX_URL"
        ;;
    git+*@*)
        commit=${source##*@}
        [[ $commit =~ ^[0-9a-f]{40}$ ]] ||
            die "FIXPACK_SOURCE=$source does not pin a commit: end it with @ and the full 40-hex commit id"
        spec="fixpack @ $source"
        ;;
    *.whl)
        [ -f "$source" ] || die "FIXPACK_SOURCE=$source: no such wheel file"
        spec=$source
        ;;
    fixpack==*)
        [ -n "${FIXPACK_INDEX_URL:-}" ] ||
            die "FIXPACK_SOURCE=$source needs FIXPACK_INDEX_URL (your internal index): fixpack is not published"
        index=(--index-url "$FIXPACK_INDEX_URL")
        spec=$source
        ;;
    *)
        die "refusing FIXPACK_SOURCE=$source: not a git URL pinned to a commit, a wheel file, or fixpack==VERSION" \
            "from FIXPACK_INDEX_URL (an unqualified name from a public index could be anyone's package)"
        ;;
esac
constraints=()
if [ -n "${FIXPACK_CONSTRAINTS:-}" ]; then
    constraints=(--constraint "$FIXPACK_CONSTRAINTS")
fi

python3 -m venv "$venv" || die "cannot create the virtualenv $venv (Debian/Ubuntu: apt-get install python3-venv)"
"$venv/bin/python" -m pip install --quiet "${index[@]}" "${constraints[@]}" "$spec" ||
    die "pip could not install $spec"
echo "install-fixpack: $("$venv/bin/fixpack" --version) in $venv (from $source)"
