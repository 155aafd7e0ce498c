"""`fixpack rehearse`: run a bundle end to end on a scratch server, as the runbook says.

1. checksums — the files are the ones the manifest lists (a tampered bundle
   is not rehearsed);
2. load — per database role a scratch database with the release schema of
   the manifest and the rows the bundle recorded (`loading.py`);
3. the manifest's steps with the real `mysql`/`mariadb` client (`--batch`,
   no `--force`), in manifest order: precheck (and offline capture, whose
   output becomes the rollback file it names), apply, verify; then apply
   again (every chunk must say "already done; nothing changed"), rollback,
   and rollback again;
4. between phases, exact per-row table states (`tables.py`): the precheck
   changed nothing; the apply changed only rows the bundle recorded; the
   re-apply changed nothing; the rollback restored every table identically.

Shell steps act on compute hosts and the controller's APIs; they are
reported as skipped here, with a line that says so in the report. The bundle is
copied to a temporary directory first, so a capture step never writes into
the reviewed bundle.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pymysql

from generator.errors import FixpackError
from generator.lint import LintInput, lint_files
from generator.rehearse.client import ClientRun, run_sql_file
from generator.rehearse.loading import ScratchDatabases, create_scratch
from generator.rehearse.report import FAILED, NOT_RUN, PASSED, SKIPPED, RehearsalReport, StepResult
from generator.rehearse.tables import State, TableDiff, diff_states, table_state
from generator.review.bundle import Bundle
from generator.review.checksums import CAPTURE_SUM, check_captured, check_files, sha256_file
from generator.review.untrusted import check_sql_file
from generator.scratch.provider import ProvidedServer
from generator.secrets import mask_text

SHELL_SKIPPED = (
    "not run: shell steps act on a compute host or the cloud's APIs, not on a scratch server; review "
    "each one's dry run (without --execute) where the runbook says to run it"
)
_CLIENT_ERROR = re.compile(r"ERROR (\d+) \(\w+\)(?: at line (\d+))?: (.*)")
_CHUNK = re.compile(r"^(?:apply|rollback) chunk \d+/\d+\t")
ALREADY_DONE = "already done; nothing changed"
# A scratch database stands for the database the bundle was generated from (identity checks
# compare a purged target's database by name: see render/identity.py).
SCRATCH_IS_IT = "SET @fixpack_database = DATABASE()"
# A guard's label: a plain string, or hex when it holds a quote (`_utf8mb4 x'…' AS guard`).
_LITERAL = re.compile(r"'(?P<text>(?:[^']|'')*)'|_utf8mb4 x'(?P<hex>[0-9A-Fa-f]*)'")
_PIECES = r"(?:'(?:[^']|'')*'|_utf8mb4 x'[0-9A-Fa-f]*')"
_GUARD_HEAD = re.compile(rf"^SELECT\s+(?P<label>{_PIECES}|CONCAT\({_PIECES}(?:,\s*{_PIECES})*\)) AS `guard`")
Outcome = tuple[str, str, str]  # status, detail, output


def guard_at(path: Path, line: int) -> str | None:
    """The label of the guard statement starting at `line` (the client reports a statement's first line).

    The label is one literal, or CONCAT of literal pieces when it is longer than a line holds
    (sqlgen/literals.py); the statement may be wrapped over several lines.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    statement: list[str] = []
    for text in lines[line - 1 : line + 8]:
        statement.append(text.strip())
        if text.rstrip().endswith(";"):
            break
    joined = " ".join(statement)
    head = _GUARD_HEAD.match(joined)
    if not head:
        return None
    label = ""
    for piece in _LITERAL.finditer(head.group("label")):
        if piece.group("hex") is not None:
            label += bytes.fromhex(piece.group("hex")).decode("utf-8", "replace")
        else:
            label += piece.group("text").replace("''", "'")
    return label


def last_state(stdout: str) -> str | None:
    """The last step state a guarded file printed (the row under a `step<TAB>state` header)."""
    lines = stdout.splitlines()
    for index in range(len(lines) - 2, -1, -1):
        if lines[index] == "step\tstate" and "\t" in lines[index + 1]:
            step, state = lines[index + 1].split("\t", 1)
            return f"{step} was {state}"
    return None


def describe_error(exc: pymysql.err.Error) -> str:
    """A PyMySQL error as one line (its messages never hold a password)."""
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        if args[0] == 2003:
            return "cannot reach the server"
        return f"{str(args[1]).splitlines()[0]} [{args[0]}]"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def explain_failure(run: ClientRun) -> str:
    """One line: which guard stopped the client, or the server's error."""
    match = _CLIENT_ERROR.search(run.stderr)
    if not match:
        return f"client exited {run.returncode}: {run.stderr.strip()[:200] or 'no message'}"
    code, line, message = match.group(1), match.group(2), match.group(3).strip()
    where = f"line {line}" if line else "connect"
    label = guard_at(Path(run.file), int(line)) if code == "1242" and line else None
    if label:
        state = last_state(run.stdout)
        return f"guard failed at {where}: {label}" + (f" ({state})" if state else "")
    return f"ERROR {code} at {where}: {message}"


def _counts(d: TableDiff) -> str:
    return ", ".join(
        f"{n} {what}"
        for what, n in (("changed", len(d.changed)), ("added", len(d.added)), ("removed", len(d.removed)))
        if n
    )


def _describe_diffs(role: str, diffs: dict[str, TableDiff], limit: int = 4) -> list[str]:
    """One line per differing table: counts and the first keys (for the log)."""
    out = []
    for table, d in diffs.items():
        keys = ", ".join(str(k[0] if len(k) == 1 else k) for k in sorted(d.keys, key=repr)[:limit])
        out.append(f"{role}.{table}: {_counts(d)} (keys {keys}{', ...' if len(d.keys) > limit else ''})")
    return out


@dataclass(frozen=True)
class _Item:
    """One thing the rehearsal does, in order."""

    phase: str
    name: str
    target: str | None
    run: Callable[[], Outcome]
    runs_after_failure_in: frozenset[str] = frozenset()  # phases whose failure does not skip this


class Rehearsal:
    """One bundle on one scratch server; `run()` returns the report."""

    def __init__(
        self,
        bundle: Bundle,
        server: ProvidedServer,
        *,
        timeout: float = 600,
        prepare: Callable[[ScratchDatabases], None] | None = None,
    ) -> None:
        """`prepare` runs after loading, before the baseline: it may add the rows an offline bundle
        (which recorded none) finds at run time, e.g. copied from a restored backup."""
        self.bundle = bundle
        self.server = server
        self.timeout = timeout
        self.prepare = prepare
        self.report = RehearsalReport(bundle.bundle_id, str(bundle.path), server.backend, server.description)
        self.scratch: ScratchDatabases | None = None
        self.work: Path | None = None
        self.baseline: dict[str, State] = {}
        self.applied: dict[str, State] = {}

    # -- the plan of work -----------------------------------------------------------
    def _plan(self) -> list[_Item]:
        steps = self.bundle.steps
        first = [s for s in steps if s["phase"] == "precheck" or s.get("produces")]
        applies = [s for s in steps if s["phase"] == "apply" and not s.get("produces")]
        verifies = [s for s in steps if s["phase"] == "verify"]
        rollbacks = [s for s in steps if s["phase"] == "rollback"]
        plan = [
            _Item("checksums", "every file matches the manifest", None, self._checksums),
            _Item("load", "release schema and recorded rows", None, self._load),
        ]

        def files(phase: str, chosen: list[dict], after: frozenset[str] = frozenset()) -> None:
            for s in chosen:
                label = "capture" if s.get("produces") else phase
                run = partial(self._run_step, s, label)
                plan.append(
                    _Item(label, s["file"], s.get("target"), run, after if label == phase else frozenset())
                )

        def check(name: str, fn: Callable[[], Outcome], after: frozenset[str] = frozenset()) -> None:
            plan.append(_Item("check", name, None, fn, after))

        # Every precheck runs even after one fails (read-only: the operator sees all of it);
        # a failed rollback is followed by the table comparison that names what it left.
        files("precheck", first, frozenset({"precheck"}))
        check("precheck changed nothing", partial(self._same_as, "baseline", "baseline"))
        files("apply", applies)
        check("apply changed only recorded rows", self._only_recorded_changed)
        files("verify", verifies)
        files("re-apply", [s for s in applies if s["kind"] == "sql"])
        check("re-apply changed nothing", partial(self._same_as, "after the first apply", "applied"))
        files("rollback", rollbacks)
        check(
            "rollback restored identical tables",
            partial(self._same_as, "baseline", "baseline"),
            frozenset({"rollback"}),
        )
        files("re-rollback", rollbacks)
        check("second rollback changed nothing", partial(self._same_as, "baseline", "baseline"))
        return plan

    def run(self) -> RehearsalReport:
        started = time.perf_counter()
        try:
            failed_in: str | None = None
            for item in self._plan():
                if failed_in is not None and failed_in not in item.runs_after_failure_in:
                    self.report.steps.append(StepResult(item.phase, item.name, NOT_RUN, target=item.target))
                    continue
                t0 = time.perf_counter()
                try:
                    status, detail, output = item.run()
                except FixpackError as exc:
                    status, detail, output = FAILED, str(exc), ""
                except pymysql.err.Error as exc:  # the scratch server refused something: one line
                    status, detail, output = FAILED, f"scratch server: {describe_error(exc)}", ""
                self.report.steps.append(
                    StepResult(
                        item.phase, item.name, status, time.perf_counter() - t0, item.target, detail, output
                    )
                )
                if status == FAILED and failed_in is None:
                    failed_in = item.phase
        finally:
            self.close()
            self.report.seconds = time.perf_counter() - started
        return self.report

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.drop()
            self.scratch = None
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None

    # -- steps ------------------------------------------------------------------------
    def _checksums(self) -> Outcome:
        bad = [f for f in check_files(self.bundle) if f.failed]
        if bad:
            return (
                FAILED,
                f"{len(bad)} file(s) differ from the manifest: " + "; ".join(f.describe() for f in bad[:3]),
                "",
            )
        self.work = Path(tempfile.mkdtemp(prefix="fixpack-rehearse-"))
        shutil.copytree(self.bundle.path, self.work / "bundle")
        return PASSED, f"{len(self.bundle.manifest['files'])} files", ""

    def _load(self) -> Outcome:
        releases = {role: info["release"] for role, info in self.bundle.databases.items()}
        guards = self.bundle.guards if self.bundle.mode == "live" else {}
        self.scratch = create_scratch(self.server.url, releases, self.bundle.preimages, guards)
        if self.prepare is not None:
            self.prepare(self.scratch)
        self.baseline = self._states()
        loaded = ", ".join(
            f"{role} {self.scratch.rows_loaded[role]} row(s)"
            + (f" + {self.scratch.stubs[role]} parent stub(s)" if self.scratch.stubs[role] else "")
            for role in releases
        )
        for role, made in self.scratch.reconstructed.items():
            self.report.notes += [r.describe(role) for r in made]
        if self.bundle.mode != "live" and self.prepare is None:
            self.report.notes.append(
                f"{self.bundle.mode} bundle: no recorded rows, so the scratch databases hold the schema only"
            )
        return PASSED, f"{', '.join(f'{r} {v}' for r, v in releases.items())}: {loaded}", ""

    def _run_step(self, step: dict, phase: str) -> Outcome:
        if step["kind"] != "sql":
            return SKIPPED, SHELL_SKIPPED, ""
        role = Bundle.role_of(step)
        assert self.scratch is not None and self.work is not None
        if role not in self.scratch.names:
            return (
                FAILED,
                f"step targets {step.get('target')!r}, which the manifest's databases do not list",
                "",
            )
        root = self.work / "bundle"
        path = root / step["file"]
        if not path.is_file():
            return FAILED, f"{step['file']} does not exist (not produced by a capture step?)", ""
        check_sql_file(root, step["file"])  # a captured rollback is data too: no client commands
        if step["file"] in self.bundle.produced_at_run_time:
            changed = check_captured(Bundle(root, self.bundle.manifest), step["file"])
            if changed.failed:
                return FAILED, changed.describe(), ""
        run = run_sql_file(
            self.scratch.url(role),
            path,
            timeout=self.timeout,
            raw=bool(step.get("produces")),
            init=SCRATCH_IS_IT,
        )
        output = mask_text((run.stdout[-3000:] + ("\n" + run.stderr if run.stderr else "")).strip())
        if not run.ok and phase in ("re-apply", "re-rollback") and self.bundle.mode != "live":
            # An offline step finds its rows at run time, and its rollback is a captured script:
            # run again after success either may stop at a precondition (a purged instance is
            # gone, a restored row exists) instead of reporting "done". Failing loudly is a
            # safe re-run; the table check that follows proves it changed nothing.
            why = mask_text(explain_failure(run))
            return PASSED, f"stopped loudly, as an offline re-run may: {why}", output
        if not run.ok:
            return FAILED, mask_text(explain_failure(run)), output
        if step.get("produces"):
            return self._keep_capture(step, role, run.stdout)
        results = [line.rsplit("\t", 1)[-1] for line in run.stdout.splitlines() if _CHUNK.match(line)]
        if phase in ("re-apply", "re-rollback") and results:
            not_done = [r for r in results if r != ALREADY_DONE]
            if not_done:
                return FAILED, f"second run was not a no-op: chunk result(s) {not_done}", output
            return PASSED, f"{len(results)} chunk(s): {ALREADY_DONE}", ""
        return PASSED, run.last_line.replace("\t", " "), ""

    def _keep_capture(self, step: dict, role: str | None, text: str) -> Outcome:
        """Write a capture's output as the runbook's command does (with its .sha256), and lint it
        like every SQL file of the bundle: the rollback it holds is what runs next."""
        assert self.work is not None
        rel = step["produces"]
        produced = self.work / "bundle" / rel
        produced.parent.mkdir(parents=True, exist_ok=True)
        produced.write_text(text, encoding="utf-8")
        digest = sha256_file(produced).removeprefix("sha256:")
        (produced.parent / (produced.name + CAPTURE_SUM)).write_text(f"{digest}  {rel}\n", encoding="utf-8")
        lint = lint_files(
            [LintInput(rel, text, "sql", role)], self.bundle.recorded_schemas, self.bundle.target_ids
        )
        if not lint.passed:
            found = "; ".join(f.describe() for f in lint.findings[:3])
            return FAILED, f"{rel}: the captured rollback fails lint: {found}", ""
        return PASSED, f"wrote {rel} ({len(text.splitlines())} lines, lint passed)", ""

    # -- state checks ---------------------------------------------------------------
    def _states(self) -> dict[str, State]:
        assert self.scratch is not None
        return {
            role: table_state(self.scratch.url(role), self.scratch.schemas[role])
            for role in self.scratch.names
        }

    def _same_as(self, what: str, attribute: str) -> Outcome:
        """Every table of every role identical to a state taken earlier; else name every table that is not."""
        expected: dict[str, State] = getattr(self, attribute)
        now = self._states()
        diffs = {role: diff_states(expected[role], now[role]) for role in expected}
        names = [
            f"{role}.{table} ({_counts(d)})" for role, tables in diffs.items() for table, d in tables.items()
        ]
        if names:
            lines = [line for role, tables in diffs.items() for line in _describe_diffs(role, tables)]
            return FAILED, f"{len(names)} table(s) differ from {what}: " + ", ".join(names), "\n".join(lines)
        return PASSED, f"every table identical to {what}", ""

    def _only_recorded_changed(self) -> Outcome:
        assert self.scratch is not None
        self.applied = self._states()
        changed = 0
        strays = []
        for role, before in self.baseline.items():
            for table, d in diff_states(before, self.applied[role]).items():
                changed += len(d.keys)
                schema_table = self.scratch.schemas[role].table(table)
                key_cols = schema_table.primary_key or schema_table.column_names
                recorded = {r.key(key_cols) for r in self.bundle.preimages.get(role, {}).get(table, [])}
                stray = (d.changed | d.removed) - recorded
                if stray:
                    strays += _describe_diffs(role, {table: TableDiff(changed=frozenset(stray))})
        if self.bundle.mode != "live":
            return PASSED, f"{changed} row(s) changed ({self.bundle.mode} bundle: nothing recorded)", ""
        if strays:
            return (
                FAILED,
                "apply changed rows the bundle did not record: " + "; ".join(strays[:4]),
                "\n".join(strays),
            )
        if not changed:
            return FAILED, "apply changed no row at all", ""
        return PASSED, f"{changed} row(s) changed, all recorded by the bundle", ""
