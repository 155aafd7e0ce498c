#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: create .venv, install fixpack with its test
# extras, run pytest against real MariaDB/MySQL servers (a private one is started from the
# installed server binaries; FIXPACK_TEST_DB_URL points at another), and fail unless the
# database tests really ran. The `docker` tests start (and remove) a private Docker engine and a
# locally built MariaDB image themselves (tests/docker_engine.py, tools/docker-engine.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]' \
    --constraint constraints/runtime.txt --constraint constraints/docker.txt  # the versions the docs pin

mkdir -p reports
status=0
# two pytest-xdist workers (FIXPACK_TEST_WORKERS; 0 runs the suite in this process): a test file
# runs whole on one worker, so its module fixtures are built once and its tests share module state;
# each worker starts its own private database server (and, if it gets Docker or compute-node
# tests, its own private engine or node); tests/conftest.py lets the controller alone gate the run
workers="${FIXPACK_TEST_WORKERS:-2}"
parallel=(-n "$workers" --dist loadfile)
[ "$workers" = 0 ] && parallel=(-p no:xdist)
.venv/bin/python -m pytest --require-db --junitxml=reports/junit.xml "${parallel[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "tools/test.sh: pytest collected no tests: failing" >&2
    exit 1
fi
exit "$status"
