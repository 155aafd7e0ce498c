"""The migration context applied by an offline rehost, in SQL read when the file runs.

The live rehost (vm_rehost_context.py) copies one side of instance_extra.migration_context
onto the instance as Nova's save writes it: numa_topology and resources as
`json.dumps(primitive)` (NULL for None), pci_requests as InstancePCIRequests.to_json() (a list
of seven keys per request). Offline the same text is built from the JSON when the file runs,
for the outcome it runs into: the `new_` side when the open move completed (any type), the
`old_` side when a resize/cold migration reverted; a rolled back live migration or evacuation
only drops the context (vm_offline_rehost.py does).

Byte for byte: MariaDB's JSON_EXTRACT returns a value's text as stored, so a part of a
document json.dumps wrote is what json.dumps writes for that part. A precondition checks the
document is such a text before anything changes, and stops the file otherwise (the live
rehost, which parses it in Python, is the way then):

* the server is MariaDB (MySQL's JSON_EXTRACT re-serializes a value with its keys sorted);
* the document is valid JSON, ASCII only and without backslash escapes, spaced as json.dumps
  spaces it (", " and ": ", no other whitespace outside strings), with no float or -0 number
  (json.loads would respell it);
* it is shaped as Nova writes it: a `nova_object.data` object; the side's pci_requests NULL, or
  an object whose `nova_object.data.requests` is missing, NULL or a list of at most
  PCI_REQUEST_LIMIT objects each with a `nova_object.data` object.

PCI_REQUEST_LIMIT is 0: an instance with PCI requests in its context is left to the live rehost.
Rebuilding to_json's seven keys per request in SQL costs about a hundred lines per request in
every statement that reads the value (scope, precheck, change, both rounds): a context with four
requests made a 6,000-line apply file nobody could review, for a case (PCI passthrough, rehosted
offline) a live generation handles with plain values.

What a precondition cannot see: a key repeated in one object (json.loads keeps the last value,
MariaDB reads the first). Nova never writes one.
"""

from __future__ import annotations

from sqlglot import exp

from generator.ops.operations import FromQuery, Operation
from generator.plan import builders as b
from generator.plan import vm_offline_rehost_outcome as rt
from generator.plan.model import Postcondition
from generator.plan.vm_rehost_context import PCI_KEYS
from generator.plan.vm_rehost_states import CONTEXT_COLUMNS, CONTEXT_SIDES, Write, context_words
from generator.sqlgen.builders import parse, parse_query
from generator.sqlgen.literals import sql_literal

PCI_REQUEST_LIMIT = 0  # requests per instance the SQL lists (more: the precondition stops; docstring)
COLUMNS = CONTEXT_COLUMNS
_DATA = '$."nova_object.data"'
_INNER = '."nova_object.data"'  # a Nova object's fields


def _at(path: str) -> str:
    return f"JSON_EXTRACT(migration_context, {sql_literal(path)})"


def _type(path: str) -> str:
    return f"COALESCE(JSON_TYPE({_at(path)}), 'NULL')"  # a missing key reads as JSON null


def _requests(side: str) -> tuple[str, str]:
    """The side's pci_requests path and the SQL count of its requests (0 unless a list)."""
    reqs = f"{_DATA}.{side}pci_requests{_INNER}.requests"
    return reqs, f"IF({_type(reqs)} = 'ARRAY', JSON_LENGTH({_at(reqs)}), 0)"


def value_sql(side: str, column: str) -> str:
    """SQL text on an instance_extra row: the text Nova's save writes to `column` from the
    `side` ('new_'/'old_') of its migration context."""
    path = f"{_DATA}.{side}{column}"
    if column != "pci_requests":  # json.dumps(value), NULL for None
        return f"CASE WHEN {_type(path)} = 'NULL' THEN NULL ELSE {_at(path)} END"
    reqs, _n = _requests(side)
    items = []
    for i in range(PCI_REQUEST_LIMIT):
        fields: list[str] = []
        for k in PCI_KEYS:  # d.get(k, False if k == "is_new" else None), as to_json lists it
            default = "false" if k == "is_new" else "null"
            sep = "{" if not fields else ", "
            field = _at(f"{reqs}[{i}]{_INNER}.{k}")
            fields.append(f"'{sep}\"{k}\": ', COALESCE({field}, '{default}')")
        each = _type(f"{reqs}[{i}]{_INNER}")  # past the list's end: missing, so JSON null
        items.append(f"IF({each} = 'OBJECT', CONCAT({', '.join(fields)}, '}}'), NULL)")
    listed = f"CONCAT('[', CONCAT_WS(', ', {', '.join(items)}), ']')" if items else "'[]'"
    return f"CASE WHEN {_type(path)} = 'NULL' THEN NULL ELSE {listed} END"


def faithful_sql(side: str) -> str:
    """SQL text on an instance_extra row: its migration context is a text the SQL copies from
    byte for byte (module docstring), shaped as Nova writes it."""
    bare = 'REGEXP_REPLACE(migration_context, \'"[^"]*"\', \'""\')'  # strings emptied
    pci = f"{_DATA}.{side}pci_requests"
    reqs, n = _requests(side)
    each = " AND ".join(
        [f"({n} <= {i} OR {_type(f'{reqs}[{i}]{_INNER}')} = 'OBJECT')" for i in range(PCI_REQUEST_LIMIT)]
        or ["TRUE"]
    )
    return (
        "VERSION() LIKE '%MariaDB%' AND JSON_VALID(migration_context) "
        "AND CHAR_LENGTH(migration_context) = LENGTH(migration_context) "
        "AND LOCATE(CHAR(92), migration_context) = 0 "
        f"AND REGEXP_INSTR({bare}, '[,:]([^ ]|$)') = 0 "
        f"AND REGEXP_INSTR(REPLACE(REPLACE({bare}, ', ', ''), ': ', ''), '[[:space:]]') = 0 "
        f"AND REGEXP_INSTR({bare}, '[0-9][.eE]|-0') = 0 "
        f"AND {_type(_DATA)} = 'OBJECT' "
        f"AND ({_type(pci)} = 'NULL' OR ({_type(pci + _INNER)} = 'OBJECT' "
        f"AND {_type(reqs)} IN ('NULL', 'ARRAY') AND {n} <= {PCI_REQUEST_LIMIT} AND {each}))"
    )


def _has_context(u: str) -> list[exp.Expr]:
    return [
        b.eq("instance_uuid", u),
        b.eq("deleted", 0),
        parse("migration_context IS NOT NULL AND migration_context <> ''"),
    ]


def _differs(column: str, text: str) -> str:
    return f"NOT (CAST({column} AS BINARY) <=> CAST(({text}) AS BINARY))"


def context_preconditions(u: str, host: str, node: str) -> list[Postcondition]:
    """Stop the file before any change when the context the outcome applies cannot be copied
    as Nova's save writes it."""
    return [
        Postcondition(
            "nova",
            f"the migration context whose {side} side the move {when.kind} applies to numa_topology, "
            "pci_requests and resources is on MariaDB, in json.dumps form and Nova's shape, without PCI "
            "requests (else SQL "
            "cannot write what Nova's save writes: generate the rehost live, or set the three columns "
            "by hand)",
            b.count_is(
                "instance_extra",
                0,
                *_has_context(u),
                rt.move_is(u, when.kind, host, node, when.moves),
                parse(f"NOT COALESCE({faithful_sql(side + '_')}, FALSE)"),
            ),
        )
        for when, side in CONTEXT_SIDES
    ]


def context_steps(run: rt.Run) -> list[Operation]:
    """instance_extra: the context's side applied, for the outcome the file runs into; before
    the context is dropped (and, for a completed resize, kept for confirm/revert)."""
    extra = run.cell.table("instance_extra")
    columns = [c for c in COLUMNS if extra.has_column(c)]
    ops: list[Operation] = []
    for when, side in CONTEXT_SIDES:
        texts = {c: value_sql(side + "_", c) for c in columns}
        changes = tuple(
            (c, FromQuery(parse_query(f"SELECT {t}"), f"the migration context's {side}_{c}"))
            for c, t in texts.items()
        )
        pending = " OR ".join(_differs(c, t) for c, t in texts.items())
        w = Write(
            "instance_extra", context_words(side, columns), changes, tuple(_has_context(run.u)[1:]), when
        )
        describe = f"the migration context of instance {run.u}, its open move {when.kind} (read at run time)"
        # faithful_sql holds: the precondition (in the apply file too) stopped it otherwise
        ops.append(run.emit(w, describe, parse(f"({pending})")))
    return ops
