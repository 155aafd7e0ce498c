"""What every renderer returns: one file of the bundle, with its place in the manifest.

Its own module so the live (`sql.py`) and offline (`offline.py`) SQL renderers,
the shell and runbook renderers and the bundle stage share it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedFile:
    path: str
    kind: str  # sql | shell | doc
    phase: str | None  # precheck | apply | verify | rollback
    target: str | None  # db:<role> | host:<name> | controller
    purpose: str
    text: str
    rows: int | None = None
    produces: str | None = None  # offline capture files: the rollback file they print
    produced_by: str | None = None  # offline rollback: written at run time by this capture file
