"""`fixpack verify`: is this bundle intact, and does it still apply?

Offline: every file's sha256 against the manifest (`checksums.py`).

Live, read-only (when connection options are given): per database of the
bundle, the schema fingerprint still matches the one recorded at generation,
and every apply step's guard is measured now with the very queries the SQL
files run (`data/guards.json`): rows in scope, fingerprint of the keyed rows
against the pre-image ("pending") and the post-image ("done"). What drifted
is explained row by row (`drift.py`). Nothing is written: the queries run in
a READ ONLY transaction, only after the checksums pass (so `guards.json` is
the file that was reviewed), and each must parse as one plain SELECT.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from generator.connect import open_session
from generator.connect.cells import discover_cells
from generator.connect.session import Session
from generator.connect.sources import ConnectionTargets
from generator.errors import ConnectionProblem, FixpackError
from generator.review import drift
from generator.review.bundle import Bundle
from generator.review.checksums import FileCheck, check_files
from generator.review.offline_state import DRIFTED as OFFLINE_DRIFTED
from generator.review.offline_state import OfflineState, bundle_verdict, offline_state
from generator.schema.diff import diff_snapshots
from generator.schema.live import snapshot_from_session
from generator.schema.model import SchemaSnapshot

PENDING, DONE, DRIFT, OK = "pending", "done", "drift", "ok"


@dataclass
class GuardCheck:
    chunk: int
    step: int
    table: str
    purpose: str
    state: str  # pending | done | drift (checks: ok | drift)
    scope_now: int | None
    scope_expect: int | None
    fingerprint_now: str
    pending_expect: str
    done_now: str | None
    done_expect: str

    def describe(self) -> str:
        text = f"chunk {self.chunk} step {self.step} {self.table}: {self.state}"
        if self.state == DRIFT:
            parts = []
            if self.scope_expect is not None and self.scope_now != self.scope_expect:
                parts.append(f"{self.scope_now} row(s) in scope, {self.scope_expect} expected")
            if not fingerprint_matches(self.fingerprint_now, self.pending_expect):
                parts.append(f"keyed rows {self.fingerprint_now}, pre-image {self.pending_expect}")
            text += " (" + "; ".join(parts) + ")" if parts else ""
        return text


@dataclass
class DatabaseCheck:
    role: str
    label: str
    where: str  # redacted URL
    fingerprint_expected: str | None
    fingerprint_found: str | None = None
    schema_differences: list[str] = field(default_factory=list)
    guards: list[GuardCheck] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    problem: str | None = None
    offline: OfflineState | None = None  # offline bundles: its own questions asked now

    @property
    def schema_ok(self) -> bool:
        return self.fingerprint_expected is None or self.fingerprint_found == self.fingerprint_expected

    @property
    def inconsistent_chunks(self) -> list[int]:
        """Chunks whose steps disagree (some pending, some done): apply would stop there."""
        states: dict[int, set[str]] = {}
        for g in self.guards:
            if g.state in (PENDING, DONE):
                states.setdefault(g.chunk, set()).add(g.state)
        return sorted(c for c, s in states.items() if len(s) > 1)

    @property
    def chunks(self) -> dict[str, list[int]]:
        """Apply chunks by state: `applied` (every step done), `pending` (the rest: the apply still has
        them to do), `drift` (pending chunks with a step whose rows match neither image: the apply
        stops at the first of them)."""
        steps: dict[int, set[str]] = {}
        for g in self.guards:
            if g.state != OK:
                steps.setdefault(g.chunk, set()).add(g.state)
        applied = sorted(c for c, s in steps.items() if s == {DONE})
        return {
            "applied": applied,
            "pending": sorted(c for c in steps if c not in applied),
            "drift": sorted(c for c, s in steps.items() if DRIFT in s),
        }

    @property
    def failed(self) -> bool:
        return (
            self.problem is not None
            or not self.schema_ok
            or any(g.state == DRIFT for g in self.guards)
            or bool(self.inconsistent_chunks)
            or (self.offline is not None and self.offline.state == OFFLINE_DRIFTED)
        )


@dataclass
class VerifyReport:
    bundle_id: str
    files: list[FileCheck]
    live: list[DatabaseCheck] | None = None  # None: offline only
    notes: list[str] = field(default_factory=list)
    mode: str = "live"  # the bundle's generation mode

    @property
    def tampered(self) -> list[FileCheck]:
        return [f for f in self.files if f.failed]

    @property
    def verdict(self) -> str:
        if self.tampered:
            return "TAMPERED: files differ from the manifest"
        if self.live is None:
            return "INTACT: every file matches the manifest (no database given: live checks not run)"
        if any(d.problem for d in self.live):
            return "INCOMPLETE: a database could not be checked"
        if any(not d.schema_ok for d in self.live):
            return "SCHEMA CHANGED since generation: regenerate the bundle"
        if self.mode != "live":
            return bundle_verdict([d.offline for d in self.live if d.offline is not None])[0]
        stopped = [d for d in self.live if d.failed and d.chunks["applied"] and d.chunks["drift"]]
        if stopped:
            d = stopped[0]
            return (
                f"PARTIALLY APPLIED, STOPPED at {d.role} chunk {d.chunks['drift'][0]}: rows changed since "
                "generation (shown above); put them back and re-run the apply, or generate a continuation "
                "(`fixpack continue`); the rollback restores the applied chunks"
            )
        if any(d.failed for d in self.live):
            return "DRIFTED: rows changed since generation; the apply would stop at a guard"
        states = {g.state for d in self.live for g in d.guards if g.state != OK}
        if states == {DONE}:
            return "ALREADY APPLIED: re-running the apply would change nothing"
        if DONE in states:
            return "PARTIALLY APPLIED: the apply resumes with the pending chunks"
        return "APPLIES: every guard holds now"

    @property
    def passed(self) -> bool:
        return not self.tampered and not any(d.failed for d in self.live or ())

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle_id": self.bundle_id,
            "passed": self.passed,
            "verdict": self.verdict,
            "files": [f.as_dict() for f in self.files],
            "live": None
            if self.live is None
            else [
                {
                    **asdict(d),
                    "schema_ok": d.schema_ok,
                    "inconsistent_chunks": d.inconsistent_chunks,
                    "chunks": d.chunks,
                }
                for d in self.live
            ],
            "notes": self.notes,
        }


def _nova_session(bundle: Bundle, targets: ConnectionTargets, label: str) -> Session:
    """The cell database at generation: --nova-url, else found from nova_api's cell mappings."""
    explicit = targets.get("nova")
    if explicit is not None:
        return open_session(explicit, targets, label=label)
    api = targets.get("nova_api")
    if api is None:
        raise ConnectionProblem("no Nova cell database given (--nova-url, or --nova-api-url to find it)")
    with open_session(api, targets, label="nova_api") as api_session:
        cells = [c for c in discover_cells(api_session, api.url, targets.cell_overrides) if not c.is_cell0]
        wanted = bundle.databases.get("nova", {}).get("database_at_generation")
        chosen = [c for c in cells if c.url is not None and c.url.database == wanted]
        if not chosen and bundle.manifest["target"].get("kind") == "vm" and bundle.target_ids:
            sql = "SELECT DISTINCT cell_id FROM instance_mappings WHERE instance_uuid IN %s"
            rows = api_session.query(sql, (bundle.target_ids,))
            ids = {r["cell_id"] for r in rows}
            chosen = [c for c in cells if c.id in ids]
        if not chosen and len(cells) == 1:
            chosen = cells
    if len(chosen) != 1 or chosen[0].url is None:
        raise ConnectionProblem("cannot tell which cell database the bundle was made for; pass --nova-url")
    return open_session(chosen[0].url, targets, label=label)


def _measure(session: Session, guards: list[dict[str, Any]]) -> list[GuardCheck]:
    """Every guard's three measurements, in one round trip, judged as the apply would judge them.

    guards.json records each piece's scope count before anything ran; once
    earlier pieces of a chunked step are done, their rows may have left the
    scope, which the apply expects (it checks `initial - done so far`).
    """
    statements: list[tuple[str, None]] = []
    for g in guards:
        for key in ("scope_query", "pending_query", "done_query"):
            if g.get(key):
                drift.read_only_select(g[key])
                statements.append((g[key], None))
    results = iter(session.query_many(statements))

    def scalar() -> Any:
        rows = next(results)
        return next(iter(rows[0].values())) if rows else None

    out = []
    done_rows: dict[str, int] = {}  # scope query -> rows of earlier pieces already done (they left it)
    for g in guards:
        scope_now = scalar() if g.get("scope_query") else None
        before = str(scalar())
        after = str(scalar()) if g.get("done_query") else None
        in_scope = g.get("scope_query") is None or scope_now in (
            g["scope_expect"],
            g["scope_expect"] - done_rows.get(g["scope_query"], 0),
        )
        pending = in_scope and fingerprint_matches(before, g["pending_expect"])
        if g.get("check_only"):
            state = OK if pending else DRIFT
        else:
            done = after is not None and fingerprint_matches(after, g["done_expect"])
            state = PENDING if pending else DONE if done else DRIFT
        if state == DONE and g.get("scope_query"):
            done_rows[g["scope_query"]] = done_rows.get(g["scope_query"], 0) + _rows(g["pending_expect"])
        out.append(
            GuardCheck(
                int(g.get("chunk", 0)),
                int(g.get("step", 0)),
                g["table"],
                g.get("purpose", ""),
                state,
                scope_now,
                g.get("scope_expect"),
                before,
                g["pending_expect"],
                after,
                g["done_expect"],
            )
        )
    return out


def fingerprint_matches(measured: str, expect: str) -> bool:
    """A measure `n:x[:y]` against an expectation: whole, or its first two parts when the
    expectation has only two (the SQL files' `SUBSTRING_INDEX(v, ':', 2)`, render/guards.py)."""
    if expect.count(":") == 1 and measured.count(":") == 2:
        return measured.rsplit(":", 1)[0] == expect
    return measured == expect


def _rows(fingerprint: str) -> int:
    """A fingerprint is `<rows>:<xor>`."""
    head = fingerprint.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def _explain(
    bundle: Bundle, role: str, session: Session, schema: SchemaSnapshot, check: DatabaseCheck
) -> None:
    """Row-by-row drift of the drifted steps only: their keyed rows, against the pre-image.

    Rows of steps found `done` (chunks the apply committed) are as the apply left
    them, which is not drift; and a scope is expected to have lost the rows of
    its pieces already done (as `_measure` judges it).
    """
    recorded = bundle.preimages.get(role, {})
    guards = bundle.guards.get(role, [])
    measured = list(zip(guards, check.guards, strict=False))
    left_scope: dict[str, int] = {}
    for g, c in measured:
        if c.state == DONE and g.get("scope_query"):
            left_scope[g["scope_query"]] = left_scope.get(g["scope_query"], 0) + _rows(g["pending_expect"])
    lines: list[str] = []
    for g, c in measured:
        if c.state != DRIFT or not schema.has_table(g["table"]):
            continue
        table = schema.table(g["table"])
        keys = drift.condition_keys(g.get("key_condition", ""), table.primary_key)
        lines += drift.row_drift(session, table, drift.rows_keyed(table, recorded.get(table.name, []), keys))
        if g.get("scope_query"):
            expected = g["scope_expect"] - left_scope.get(g["scope_query"], 0)
            known = recorded.get(table.name, [])
            lines += drift.scope_change(session, table, g["scope_query"], expected, known)
    check.drift.extend(dict.fromkeys(lines))


def _check_database(bundle: Bundle, role: str, targets: ConnectionTargets) -> DatabaseCheck:
    info = bundle.databases[role]
    label = info.get("label", role)
    check = DatabaseCheck(role, label, "", info.get("schema_fingerprint"))
    if role != "nova" and targets.get(role) is None:
        check.problem = f"not checked: no {role} database given (--{role.replace('_', '-')}-url)"
        return check
    try:
        if role == "nova":
            session = _nova_session(bundle, targets, label)
        else:
            session = open_session(targets.get(role), targets, label=label)  # type: ignore[arg-type]
    except ConnectionProblem as exc:
        check.problem = str(exc)
        return check
    with session:
        check.where = session.url.redacted()
        live = snapshot_from_session(session)
        check.fingerprint_found = live.fingerprint()
        recorded = bundle.recorded_schemas.get(role)
        if not check.schema_ok and recorded is not None:
            present = SchemaSnapshot(tuple(t for t in live.tables if recorded.has_table(t.name)))
            check.schema_differences = [d.describe() for d in diff_snapshots(recorded, present)] or [
                "the tables this bundle uses are unchanged; other tables of the database differ"
            ]
        if not check.schema_ok:
            return check  # guard queries may name columns that are gone: do not run them
        if bundle.mode != "live":
            check.offline = offline_state(bundle, role, session)
            return check
        check.guards = _measure(session, bundle.guards.get(role, []))
        if any(g.state == DRIFT for g in check.guards):
            _explain(bundle, role, session, recorded or live, check)
    return check


def verify_bundle(bundle: Bundle, targets: ConnectionTargets | None = None) -> VerifyReport:
    """Checksums always; live checks when any database connection is given."""
    report = VerifyReport(bundle.bundle_id, check_files(bundle), mode=bundle.mode)
    if targets is None or not targets.any:
        return report
    if report.tampered:
        report.notes.append("live checks not run: the bundle's files differ from its manifest")
        return report
    if bundle.mode != "live":
        report.notes.append(
            f"{bundle.mode} bundle: it recorded no rows; its own precheck and verify questions "
            "(preconditions, rows still to change, postconditions) were asked of the databases now"
        )
    report.live = []
    for role in bundle.databases:
        try:
            report.live.append(_check_database(bundle, role, targets))
        except FixpackError as exc:
            report.live.append(DatabaseCheck(role, role, "", None, problem=str(exc)))
    return report
