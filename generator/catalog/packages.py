"""The upstream packages a capture runs: wheels read for their migration heads, and venvs.

Each release's nova, cinder and openstack-placement wheels are downloaded (no
dependencies) to read the alembic head of every migration tree and nova's
compute SERVICE_VERSION; venvs are built with the release's pip constraints
(`constraints/<release>.txt`) and reused while package, Python and
constraints stay the same.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from generator.catalog.declared import ReleaseSpec

CONSTRAINTS_DIR = Path(__file__).parent / "constraints"

# Where each service keeps its alembic tree inside its wheel.
MIGRATION_TREES = {
    "nova": ("nova", "nova/db/main/migrations/versions/"),
    "nova_api": ("nova", "nova/db/api/migrations/versions/"),
    "cinder": ("cinder", "cinder/db/migrations/versions/"),
    "placement": ("openstack-placement", "placement/db/sqlalchemy/alembic/versions/"),
}


def log(msg: str) -> None:
    print(f"[capture] {msg}", file=sys.stderr, flush=True)


def release_constraints(spec: ReleaseSpec) -> Path | None:
    """The pip constraints a release's own packages need to install today, if any.

    Old releases declare open-ended requirements (`SQLAlchemy>=1.4.13`), so an
    unpinned install pulls libraries years newer than the release's code.
    """
    path = CONSTRAINTS_DIR / f"{spec.name}.txt"
    return path if path.is_file() else None


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"command failed: {' '.join(cmd[:4])} ...\n{tail}")
    return done


# -- reading facts out of wheels ---------------------------------------------
def download_wheel(work: Path, project: str, version: str) -> Path:
    dest = work / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    prefix = project.replace("-", "_") + "-" + version + "-"
    for existing in dest.glob("*.whl"):
        if existing.name.startswith(prefix):
            return existing
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"{project}=={version}",
            "-d",
            str(dest),
        ]
    )
    for existing in dest.glob("*.whl"):
        if existing.name.startswith(prefix):
            return existing
    raise SystemExit(f"no wheel for {project}=={version} was downloaded")


def alembic_head(wheel: Path, tree: str) -> str:
    """The one revision no other revision in the tree names as its down_revision."""
    revisions, downs = set(), set()
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not (name.startswith(tree) and name.endswith(".py")) or "/" in name[len(tree) :]:
                continue
            src = z.read(name).decode()
            rev = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", src, re.M)
            down = re.search(r"^down_revision\s*=\s*(.*)$", src, re.M)
            if rev:
                revisions.add(rev.group(1))
                if down:
                    downs.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    heads = sorted(revisions - downs)
    if len(heads) != 1:
        raise SystemExit(f"{wheel.name}: expected one alembic head in {tree}, found {heads}")
    return heads[0]


def compute_service_version(nova_wheel: Path) -> int:
    with zipfile.ZipFile(nova_wheel) as z:
        src = z.read("nova/objects/service.py").decode()
    found = re.search(r"^SERVICE_VERSION = (\d+)", src, re.M)
    if not found:
        raise SystemExit(f"{nova_wheel.name}: SERVICE_VERSION not found")
    return int(found.group(1))


def release_facts(work: Path, spec: ReleaseSpec) -> dict:
    wheels = {
        "nova": download_wheel(work, "nova", spec.nova),
        "cinder": download_wheel(work, "cinder", spec.cinder),
        "openstack-placement": download_wheel(work, "openstack-placement", spec.placement),
    }
    heads = {kind: alembic_head(wheels[project], tree) for kind, (project, tree) in MIGRATION_TREES.items()}
    return {"heads": heads, "compute_service_version": compute_service_version(wheels["nova"])}


# -- the services' own venvs ---------------------------------------------------
def find_python(version: str) -> str:
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(p / "bin" / "python") for p in sorted(pyenv.glob(f"{version}*"))]
    for cand in candidates:
        if cand and subprocess.run([cand, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return cand
    raise SystemExit(f"python{version} not found (needed to run this release's own packages)")


def ensure_venv(path: Path, python: str, requirement: str, constraints: Path | None) -> Path:
    """A venv with `requirement` installed; reused while interpreter and pins are unchanged."""
    marker = path / ".fixpack-installed"
    version = run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    wanted = f"{requirement}\npython {version}\n" + (constraints.read_text() if constraints else "")
    if marker.exists() and marker.read_text() == wanted:
        log(f"reusing {path} ({requirement}, Python {version}, same constraints)")
        return path
    shutil.rmtree(path, ignore_errors=True)
    log(f"installing {requirement} into {path}" + (f" (constraints: {constraints})" if constraints else ""))
    started = time.monotonic()
    run([python, "-m", "venv", str(path)])
    cmd = [str(path / "bin" / "pip"), "install", "-q", requirement, "PyMySQL"]
    if constraints:
        cmd += ["-c", str(constraints)]
    run(cmd)
    marker.write_text(wanted)
    log(f"installed {requirement} in {time.monotonic() - started:.0f}s")
    return path
