"""Open a bundle directory for review: its manifest, its files and its `data/*.json`.

Everything downstream of generation (`fixpack lint`, `verify`, `rehearse`)
works from the bundle alone, as CI and a second engineer do. A bundle is
untrusted input here: a missing or malformed manifest, or a path that points
outside the bundle, is one clear FixpackError, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from generator.bundle.manifest import MANIFEST
from generator.bundle.preimages import decode_rows
from generator.errors import FixpackError
from generator.ops.rows import Row
from generator.quoting import terminal
from generator.review.untrusted import UntrustedContent, check_bundle, check_manifest_path
from generator.schema.model import SchemaSnapshot

_REQUIRED = ("bundle_id", "target", "mode", "databases", "steps", "files")
# what each required field must be: a hand-edited manifest (`"steps": 5`) is one clear line
_SHAPES: dict[str, type] = {
    "bundle_id": str, "target": dict, "mode": str, "databases": dict, "steps": list, "files": dict,
}  # fmt: skip
_JSON_NAMES: dict[type, str] = {str: "a string", dict: "an object", list: "an array"}


class BundleProblem(FixpackError):
    """The directory is not a readable fixpack bundle."""


def safe_relative(rel: str) -> str:
    """A manifest path, refused when it could name something outside the bundle."""
    try:
        return check_manifest_path(rel)
    except UntrustedContent as exc:
        raise BundleProblem(str(exc)) from None


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> Bundle:
        root = Path(path)
        if not root.is_dir():
            raise BundleProblem(f"not a bundle directory: {root}")
        manifest_path = root / MANIFEST
        if manifest_path.is_symlink():
            raise BundleProblem(f"{manifest_path}: is a symbolic link; a bundle holds only regular files")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BundleProblem(f"{root}: no {MANIFEST} (not a fixpack bundle?)") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BundleProblem(f"{manifest_path}: unreadable ({exc.__class__.__name__}: {exc})") from None
        if not isinstance(manifest, dict):
            raise BundleProblem(f"{manifest_path}: not a JSON object")
        missing = [k for k in _REQUIRED if k not in manifest]
        if missing:
            raise BundleProblem(f"{manifest_path}: missing {', '.join(missing)}")
        for key, kind in _SHAPES.items():
            if not isinstance(manifest[key], kind):
                raise BundleProblem(
                    f"{manifest_path}: {key!r} is a JSON {type(manifest[key]).__name__}, "
                    f"expected {_JSON_NAMES[kind]}"
                )
        for step in manifest["steps"]:
            if (
                not isinstance(step, dict)
                or not {"file", "kind", "phase"} <= step.keys()
                or not all(isinstance(step[k], str) for k in ("file", "kind", "phase"))
                or not isinstance(step.get("produces") or "", str)
            ):
                raise BundleProblem(f"{manifest_path}: malformed step {terminal(repr(step))}"[:200])
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest["files"].items()):
            raise BundleProblem(f"{manifest_path}: 'files' must map each path to its sha256 text")
        for rel in manifest["files"]:
            safe_relative(rel)
        check_bundle(root, manifest)  # links, special files, client commands in any SQL file
        return cls(root, manifest)

    # -- manifest facts ------------------------------------------------------------
    @property
    def bundle_id(self) -> str:
        return str(self.manifest["bundle_id"])

    @property
    def mode(self) -> str:
        return str(self.manifest["mode"])

    @property
    def target_ids(self) -> tuple[str, ...]:
        return tuple(self.manifest["target"].get("ids", ()))

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.manifest["steps"])

    @property
    def databases(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest["databases"])

    @property
    def produced_at_run_time(self) -> frozenset[str]:
        """Files a step writes when the bundle runs (an offline capture's rollback)."""
        return frozenset(s["produces"] for s in self.steps if s.get("produces"))

    @staticmethod
    def role_of(step: dict[str, Any]) -> str | None:
        target = step.get("target") or ""
        return target.removeprefix("db:") if target.startswith("db:") else None

    # -- files --------------------------------------------------------------------
    def file(self, rel: str) -> Path:
        return self.path / safe_relative(rel)

    def read_text(self, rel: str) -> str:
        try:
            return self.file(rel).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BundleProblem(f"{self.bundle_id}: {rel} is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleProblem(f"{self.bundle_id}: {rel} is unreadable ({exc.__class__.__name__})") from None

    def data(self, name: str) -> dict[str, Any]:
        """`data/<name>.json`, parsed."""
        rel = f"data/{name}.json"
        try:
            value = json.loads(self.read_text(rel))
        except ValueError as exc:
            raise BundleProblem(f"{self.bundle_id}: {rel} is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise BundleProblem(f"{self.bundle_id}: {rel} is not a JSON object")
        return value

    # -- data files ---------------------------------------------------------------
    @cached_property
    def recorded_schemas(self) -> dict[str, SchemaSnapshot]:
        """data/schema.json: per role, every table the bundle's SQL names, as at generation."""
        out = {}
        for role, entry in self.data("schema").items():
            try:
                out[role] = SchemaSnapshot.from_dict(entry)
            except (KeyError, TypeError) as exc:
                problem = f"{self.bundle_id}: data/schema.json: {role} is malformed ({exc})"
                raise BundleProblem(problem) from None
        return out

    @cached_property
    def guards(self) -> dict[str, list[dict[str, Any]]]:
        """Per role, the apply steps' guard queries and expectations, re-derived from the SQL files.

        The precheck file of each database holds the same measurements as the
        apply (see `guard_queries.py`); `data/guards.json` is never executed.
        """
        from generator.review.guard_queries import guards_of

        out: dict[str, list[dict[str, Any]]] = {}
        for phase_step in self.steps:
            role = self.role_of(phase_step)
            if phase_step["kind"] != "sql" or phase_step["phase"] != "precheck" or phase_step.get("produces"):
                continue
            applies = [s for s in self.steps if s["phase"] == "apply" and self.role_of(s) == role]
            if role is None or not applies:
                continue
            schema = self.recorded_schemas.get(role)
            text = self.read_text(phase_step["file"])
            out[role] = guards_of(text, self.read_text(applies[0]["file"]), schema, phase_step["file"])
        return out

    @cached_property
    def preimages(self) -> dict[str, dict[str, list[Row]]]:
        """data/preimages.json decoded: per role and table, every row the apply locks, as read."""
        out: dict[str, dict[str, list[Row]]] = {}
        for role, tables in self.data("preimages").items():
            for table, entry in tables.items():
                try:
                    out.setdefault(role, {})[table] = decode_rows(entry)
                except (KeyError, TypeError, ValueError) as exc:
                    raise BundleProblem(
                        f"{self.bundle_id}: data/preimages.json: {role}.{table} is malformed ({exc})"
                    ) from None
        return out
