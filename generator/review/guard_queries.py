"""The guards of a live bundle, re-derived from its SQL files — never taken from `data/guards.json`.

`fixpack verify` measures every apply step's guard read-only against the real
databases, and `rehearse` counts each step's scope on the scratch server. The
queries come from the precheck file of each database — the file the operator
runs read-only before the apply, with the same measurements and the
expectations before anything ran — and the chunk of each step from the apply
file. Both files are checksummed, linted and scanned for client commands; the
data files are not code and are never executed.

Each query is parsed with sqlglot and accepted only when it has the shape
fixpack generates: one plain SELECT of a fingerprint (`CONCAT(COUNT(*), ':',
BIT_XOR(…))` over `QUOTE()`d columns) or of `COUNT(*)` from one table of the bundle's recorded schema,
filtered by comparisons of its columns with literals (and `IN (SELECT col FROM
…)` subqueries of the same shape). Anything else — an executable comment,
`INTO`, `LOAD_FILE()`, a function outside the allow-list, another database's
table — refuses the bundle. What runs is sqlglot's rendering of the checked
tree, without comments.
"""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from sqlglot import exp

from generator.errors import FixpackError
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.dialect import FixpackMySQL
from generator.sqlgen.sqltext import statements

_FUNCTIONS = frozenset({"CONCAT", "CONCAT_WS", "CONV", "LEFT", "SHA2", "BIT_XOR", "QUOTE"})
_NODES = (
    exp.Select, exp.From, exp.Where, exp.Table, exp.Identifier, exp.Column, exp.Star, exp.Count,
    exp.Concat, exp.ConcatWs, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Coalesce, exp.Hex, exp.Round,
    exp.Mul, exp.Literal, exp.Null, exp.Boolean, exp.HexString, exp.Introducer, exp.Var, exp.EQ, exp.NEQ,
    exp.NullSafeEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.Not, exp.And, exp.Or, exp.Paren, exp.In,
    exp.Subquery, exp.Tuple, exp.Anonymous, exp.Left, exp.BitwiseXorAgg, exp.SHA2,
)  # fmt: skip
_MEASURE = re.compile(r"(?is)^SET\s+@fixpack_(scope|before|after)\s*=")
_STATE = re.compile(r"(?is)^SET\s+@fixpack_state\s*=")
_REPORT = re.compile(r"(?s)^SELECT\s+'step (\d+): ([A-Za-z0-9_$]+)'\s+AS\s+`step`")
_STEP_LABEL = re.compile(r"'step (\d+): ")
_PURPOSE = re.compile(r"(?m)^-- step (\d+): [A-Za-z0-9_$]+: (.*(?:\n--   .*)*)")


class GuardQueryRefused(FixpackError):
    """A guard measurement in a bundle's SQL is not one fixpack would have generated."""


def checked_select(sql: str, schema: SchemaSnapshot | None, where: str) -> exp.Select:
    """One plain read-only SELECT of the generated shape, or GuardQueryRefused."""
    try:
        parsed = sqlglot.parse(sql, read="mysql")
    except sqlglot.errors.SqlglotError as exc:
        raise GuardQueryRefused(f"{where}: guard query does not parse: {str(exc).splitlines()[0]}") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        raise GuardQueryRefused(f"{where}: guard query is not a single SELECT; refusing to run it")
    tree = parsed[0]
    _check_select(tree, schema, where, top=True)
    return tree


def _check_select(tree: exp.Select, schema: SchemaSnapshot | None, where: str, *, top: bool) -> None:
    for key, value in tree.args.items():
        if value and key not in ("expressions", "from_", "from", "where"):
            raise GuardQueryRefused(f"{where}: guard query has a {key.upper()} clause; refusing to run it")
    source = tree.args.get("from_") or tree.args.get("from")
    if not isinstance(source, exp.From) or not isinstance(source.this, exp.Table):
        raise GuardQueryRefused(f"{where}: guard query does not read exactly one table; refusing to run it")
    table = source.this
    if table.args.get("db") or table.args.get("catalog") or not isinstance(table.this, exp.Identifier):
        raise GuardQueryRefused(f"{where}: guard query names another database's table; refusing to run it")
    name = table.name
    if schema is not None and not schema.has_table(name):
        raise GuardQueryRefused(f"{where}: guard query reads {name!r}, not a table of the bundle's schema")
    columns = set(schema.table(name).column_names) if schema is not None else None
    for node in tree.walk():
        if node.comments:
            raise GuardQueryRefused(f"{where}: guard query holds a comment (an executable one would run)")
        if isinstance(node, exp.Select) and node is not tree:
            if not isinstance(node.parent, exp.Subquery) and not isinstance(node.parent, exp.In):
                raise GuardQueryRefused(f"{where}: guard query has a nested SELECT outside IN (…)")
            continue
        if not isinstance(node, _NODES):
            raise GuardQueryRefused(
                f"{where}: guard query uses {type(node).__name__.upper()}, which fixpack never generates; "
                "refusing to run it"
            )
        if isinstance(node, exp.Anonymous) and str(node.name).upper() not in _FUNCTIONS:
            raise GuardQueryRefused(f"{where}: guard query calls {str(node.name)[:40]}(); refusing to run it")
        if isinstance(node, exp.Column):
            if node.args.get("db") or node.args.get("catalog") or node.table not in ("", name):
                if _inner_table(node) is None:
                    raise GuardQueryRefused(f"{where}: guard query names a column of another table")
            elif columns is not None and node.name not in columns and _inner_table(node) is None:
                raise GuardQueryRefused(f"{where}: guard query names {node.name!r}, not a column of {name}")
    for inner in tree.find_all(exp.Select):
        if inner is not tree:
            _check_select(inner, schema, where, top=False)
            if len(inner.expressions) != 1 or not isinstance(inner.expressions[0], exp.Column):
                raise GuardQueryRefused(f"{where}: a guard subquery must select one column")


def _inner_table(node: exp.Expr) -> exp.Select | None:
    """The nested SELECT a column belongs to (its own checks apply there), if any."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Select):
            return parent if isinstance(parent.parent, exp.Subquery | exp.In) else None
        parent = parent.parent
    return None


def render(tree: exp.Select) -> str:
    """The checked tree as the text that runs (no comments can survive)."""
    return tree.sql(dialect=FixpackMySQL, identify=True, comments=False)


def _unqualified(condition: exp.Expr) -> str:
    """The key condition as guards.json records it: columns without their table."""
    bare = condition.transform(lambda n: exp.column(n.name) if isinstance(n, exp.Column) else n)
    return bare.sql(dialect=FixpackMySQL, identify=True, comments=False)


def _var(node: exp.Expr) -> str | None:
    return node.this.name if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Var) else None


def _measured_var(node: exp.Expr) -> tuple[str | None, bool]:
    """(variable, prefix?) of `@v` or `SUBSTRING_INDEX(@v, ':', 2)` (render/guards.py `matches`)."""
    if isinstance(node, exp.SubstringIndex):
        return _var(node.this), True
    return _var(node), False


def _expectations(case: exp.Expr, where: str) -> dict[str, Any]:
    """From `CASE WHEN @scope = N AND @before = 'fp' THEN 'pending' WHEN SUBSTRING_INDEX(@before, ':',
    2) = 'fp' THEN 'done' …` (the done side may compare the first two parts of the one measure)."""
    if not isinstance(case, exp.Case):
        raise GuardQueryRefused(f"{where}: step state is not a CASE over the measurements")
    out: dict[str, Any] = {}
    for branch in case.args.get("ifs") or ():
        outcome = branch.args.get("true")
        side = outcome.this if isinstance(outcome, exp.Literal) else None
        for eq in branch.this.find_all(exp.EQ):
            (name, _prefix), value = _measured_var(eq.this), eq.expression
            if name not in ("fixpack_scope", "fixpack_before", "fixpack_after") or not isinstance(
                value, exp.Literal
            ):
                raise GuardQueryRefused(f"{where}: unexpected condition in the step state")
            if name == "fixpack_scope":
                out[name] = int(value.this)
            elif side == "done":
                out["done_var"], out["done_expect"] = name, value.this
            else:
                out[name] = value.this
        if side == "ok":
            out["check_only"] = True
    return out


def _chunks(apply_text: str) -> dict[int, int]:
    chunk = 0
    out: dict[int, int] = {}
    for _, body in statements(apply_text):
        if re.match(r"(?i)^START\s+TRANSACTION$", body):
            chunk += 1
        m = _STEP_LABEL.search(body)
        if m:
            out.setdefault(int(m.group(1)), chunk)
    return out


def guards_of(precheck_text: str, apply_text: str, schema: SchemaSnapshot | None, rel: str) -> list[dict]:
    """Every step's guard, in the dict form `fixpack verify` and `rehearse` measure."""
    chunks = _chunks(apply_text)
    purposes = {int(n): " ".join(t.replace("\n--  ", "").split()) for n, t in _PURPOSE.findall(precheck_text)}
    out: list[dict] = []
    measured: dict[str, exp.Select] = {}
    state: dict[str, Any] = {}
    for line, body in statements(precheck_text):
        where = f"{rel}:{line}"
        if _MEASURE.match(body) or _STATE.match(body):
            try:
                item = sqlglot.parse_one(body, read="mysql").expressions[0].this
            except (sqlglot.errors.SqlglotError, AttributeError, IndexError):
                raise GuardQueryRefused(f"{where}: guard measurement does not parse") from None
            name, value = _var(item.this), item.expression
            if name == "fixpack_state":
                state = _expectations(value, where)
            elif name and isinstance(value, exp.Subquery) and isinstance(value.this, exp.Select):
                measured[name] = value.this
            else:
                raise GuardQueryRefused(f"{where}: guard measurement is not a subquery")
            continue
        report = _REPORT.match(body)
        if not report:
            continue
        number, table = int(report.group(1)), report.group(2)
        before = measured.get("fixpack_before")
        if before is None or "fixpack_before" not in state:
            raise GuardQueryRefused(f"{where}: step {number} reports a state it did not measure")
        queries = {}
        for var, tree in measured.items():
            checked = checked_select(tree.sql(dialect="mysql"), schema, where)
            if checked.args["from_" if "from_" in checked.args else "from"].this.name != table:
                raise GuardQueryRefused(f"{where}: step {number} measures another table than {table}")
            queries[var] = render(checked)
        check_only = bool(state.get("check_only"))
        key = before.args.get("where")
        out.append(
            {
                "chunk": chunks.get(number, 0),
                "step": number,
                "purpose": purposes.get(number, ""),
                "table": table,
                "check_only": check_only,
                "pending_query": queries["fixpack_before"],
                "pending_expect": state["fixpack_before"],
                "done_query": None if check_only else queries.get(state.get("done_var", "fixpack_after")),
                "done_expect": state["fixpack_before"] if check_only else state.get("done_expect"),
                "scope_query": queries.get("fixpack_scope"),
                "scope_expect": state.get("fixpack_scope"),
                "key_condition": _unqualified(key.this) if key is not None else "",
            }
        )
        measured, state = {}, {}
    return out
