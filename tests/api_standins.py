"""`openstack`, `cinder` and `nova-manage` executables for running a scan's emitted controller.sh
against a twin: each runs the release's own service code on the twin's databases.

- `openstack server set --state S U`: tests/api_upstream/nova_api.py (Nova's os-resetState action),
- `openstack resource provider delete U`: tests/api_upstream/placement_api.py (the Placement API
  application in-process, noauth2),
- `cinder ...`: tests/api_upstream/cinder_api.py (os-reset_status of a volume, snapshot or backup;
  attachment delete),
- `nova-manage cell_v2 map_instances --cell_uuid C`: the release's own nova-manage.

Each accepts only the exact command forms scan/suggest.py writes and fails (exit 9, one line)
on anything else; every call is logged (argv NUL-separated, one record per call) so a test can
compare what ran with what controller.sh holds.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from generator.scratch.deployment import Deployment

from .differential import cinder_conf, nova_conf, service_venv

SCRIPTS = Path(__file__).parent / "api_upstream"


def _url(dep: Deployment, role: str) -> str:
    return dep.url(role).render(with_password=True) + "?charset=utf8"


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def install(dep: Deployment, tmp: Path, log: Path) -> Path:
    """The directory holding the three executables (put it first on PATH)."""
    nova, cinder = service_venv("nova", dep.release), service_venv("cinder", dep.release)
    placement = service_venv("placement", dep.release)
    bindir = tmp / "api-bin"
    bindir.mkdir()
    nconf = nova_conf(dep, tmp / "nova.conf")
    nconf.write_text("[DEFAULT]\ntransport_url = fake:/\n" + nconf.read_text())  # RPC clients, never called
    cconf = cinder_conf(dep, tmp / "cinder.conf")
    # the seeded cinder-backup service row is the live one (backup-reset-state needs one up)
    cconf.write_text(
        "[DEFAULT]\nservice_down_time = 315360000\ntransport_url = fake:/\n" + cconf.read_text()
        + f"[fixpack_standin]\nnova_api_connection = {_url(dep, 'nova_api')}\n"
    )  # fmt: skip
    pconf = tmp / "placement.conf"
    pconf.write_text(f"[placement_database]\nconnection = {_url(dep, 'placement')}\n")
    q = shlex.quote
    record = f'{{ printf "%s\\0" "${{0##*/}}" "$@"; printf "\\n"; }} >> {q(str(log))}\n'

    def runs(venv: Path, script: str, conf: Path) -> str:
        return f'exec {q(str(venv / "bin" / "python"))} {q(str(SCRIPTS / script))} {q(str(conf))} "$@"'

    _write(bindir / "openstack", "#!/bin/bash\n" + record + 'case "${1:-} ${2:-}" in\n'
           f'    "server set") {runs(nova, "nova_api.py", nconf)} ;;\n'
           f'    "resource provider") {runs(placement, "placement_api.py", pconf)} ;;\n'
           '    *) echo "openstack stand-in: unsupported: openstack $*" >&2; exit 9 ;;\nesac\n')  # fmt: skip
    _write(bindir / "cinder", "#!/bin/bash\n" + record + runs(cinder, "cinder_api.py", cconf) + "\n")
    manage = q(str(nova / "bin" / "nova-manage"))
    _write(bindir / "nova-manage", "#!/bin/bash\n" + record +
           'if [[ $# -eq 4 && $1 == cell_v2 && $2 == map_instances && $3 == --cell_uuid ]]; then\n'
           f'    exec {manage} --config-file {q(str(nconf))} "$@"\nfi\n'
           'echo "nova-manage stand-in: unsupported: nova-manage $*" >&2\nexit 9\n')  # fmt: skip
    return bindir
