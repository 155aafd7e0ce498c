"""A bundle is untrusted data: refuse what could make a reviewing tool act outside it.

`fixpack verify`, `lint` and `rehearse` read bundles that came from elsewhere
(an attachment, a colleague's copy, CI). Before anything else reads or runs a
file, `check_bundle` refuses, with one line naming the file (and line):

* a symbolic link anywhere in the bundle (a file or directory that points
  out of it: `verify` would hash, and `rehearse` copy and run, its target);
* anything that is not a regular file or directory (a FIFO would hang a
  reader, a device would be read);
* a manifest path that is absolute, climbs out with `..`, or holds control
  characters;
* a SQL file — listed, unlisted, or written at run time under `captured/` —
  holding a mysql client command or an executable comment (`sqlgen/sqltext.py`).

The same check runs on a captured rollback before `rehearse` executes it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from generator.errors import FixpackError
from generator.sqlgen.sqltext import find_client_command


class UntrustedContent(FixpackError):
    """The bundle holds something a data bundle never does (a link, a client command, a path outside)."""


def _shown(rel: str) -> str:
    """A path for a message: control characters escaped (the name itself is untrusted)."""
    return rel.encode("unicode_escape").decode("ascii") if not rel.isprintable() else rel


def check_manifest_path(rel: object) -> str:
    """A manifest path, refused when it could name something outside the bundle."""
    if not isinstance(rel, str):
        raise UntrustedContent(f"manifest names a path that is not a string: {type(rel).__name__}")
    path = PurePosixPath(rel)
    if not rel or path.is_absolute() or ".." in path.parts or "\\" in rel or not rel.isprintable():
        raise UntrustedContent(f"manifest names a path outside the bundle: {_shown(rel)!r}")
    return str(path)


def check_sql_text(rel: str, data: bytes) -> None:
    """Refuse a SQL file's bytes when they are not UTF-8 or hold a client command."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedContent(
            f"{_shown(rel)}: not UTF-8 text (byte {exc.start}); refusing this bundle"
        ) from None
    found = find_client_command(text)
    if found is not None:
        raise UntrustedContent(found.describe(_shown(rel)))


def check_sql_file(root: Path, rel: str) -> None:
    """One SQL file of the bundle, read without following a link."""
    path = root / check_manifest_path(rel)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return  # reported as missing by the checksum check
    except OSError as exc:
        raise UntrustedContent(f"{_shown(rel)}: cannot be opened safely ({exc.strerror}); refusing") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise UntrustedContent(f"{_shown(rel)}: not a regular file; refusing this bundle")
        check_sql_text(rel, fh.read())


def _walk(root: Path) -> Iterable[str]:
    """Every regular file's path relative to root; links and special files refused on sight."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                raise UntrustedContent(
                    f"{_shown(rel)}: is a symbolic link (to {_shown(os.readlink(full))!r}); a bundle holds "
                    "only regular files, refusing it"
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UntrustedContent(
                    f"{_shown(rel)}: is not a regular file or directory; refusing this bundle"
                )
            if stat.S_ISREG(mode):
                yield rel


def check_bundle(root: Path, manifest: dict) -> None:
    """Everything above, for a bundle directory and its parsed manifest."""
    files = list(_walk(root))
    sql = {rel for rel in files if rel.endswith(".sql")}
    for step in manifest.get("steps", ()):
        check_manifest_path(step.get("file"))
        if step.get("produces"):
            check_manifest_path(step["produces"])
            sql.add(step["produces"])
        if step.get("kind") == "sql":
            sql.add(step["file"])
    for rel in manifest.get("files", ()):
        check_manifest_path(rel)
    for rel in sorted(sql):
        check_sql_file(root, rel)
