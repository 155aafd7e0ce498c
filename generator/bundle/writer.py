"""Write a bundle directory atomically: a temporary sibling directory, then rename.

An operator never sees half a bundle: if anything fails (lint refusal, disk
full, a bug) the temporary directory is removed and nothing is left under
`out/`.

A bundle holds rollback pre-images, which can include secrets (iSCSI CHAP
passwords in connection_info, Cinder provider_auth): its directories are 0700,
its files 0600 (shell scripts 0700), whatever the umask — files are created
with those modes, never widened later.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from generator.bundle.manifest import MANIFEST, manifest_text
from generator.errors import FixpackError

DIR_MODE, FILE_MODE, SCRIPT_MODE = 0o700, 0o600, 0o700


def _write_private(path: Path, text: str, mode: int) -> None:
    """Create `path` with `mode` from the start (no window where another user could open it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, mode)  # the umask may have removed bits; it cannot have added any


def write_private(path: Path, text: str) -> None:
    """A new file beside a bundle (scan --emit's index): 0700 for `.sh`, else 0600, as in a bundle."""
    _write_private(path, text, SCRIPT_MODE if path.name.endswith(".sh") else FILE_MODE)


def _private_dirs(root: Path, rel: str) -> None:
    path = root
    for part in Path(rel).parent.parts:
        path = path / part
        if not path.is_dir():
            path.mkdir(mode=DIR_MODE)
            path.chmod(DIR_MODE)


def _output_dir(out_dir: Path) -> None:
    """`-o` must be (or become) a writable directory: anything else is one line, not a traceback."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FixpackError(f"-o {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or exc
        raise FixpackError(f"-o {out_dir}: cannot create the output directory ({why})") from None


def write_atomically(out_dir: Path, bundle_id: str, files: dict[str, str], manifest: dict | str) -> Path:
    """`manifest`: the dict, or its text exactly as it must be written (a sealed bundle's)."""
    _output_dir(out_dir)
    final = out_dir / bundle_id
    if final.exists():
        raise FixpackError(f"bundle directory already exists: {final}")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{bundle_id}.", dir=out_dir))
    except OSError as exc:
        raise FixpackError(f"-o {out_dir}: cannot write a bundle there ({exc.strerror or exc})") from None
    try:
        for rel, text in files.items():
            _private_dirs(tmp, rel)
            _write_private(tmp / rel, text, SCRIPT_MODE if rel.endswith(".sh") else FILE_MODE)
        text = manifest if isinstance(manifest, str) else manifest_text(manifest)
        _write_private(tmp / MANIFEST, text, FILE_MODE)
        tmp.chmod(DIR_MODE)
        os.rename(tmp, final)
    except OSError as exc:  # disk full, quota, a filesystem that refuses the modes: nothing is left
        shutil.rmtree(tmp, ignore_errors=True)
        why = exc.strerror or exc
        raise FixpackError(f"-o {out_dir}: writing the bundle failed ({why}); nothing written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
