"""Offline reset-detached: legacy attachment_specs become the attachment's connector at run time.

Loading an attachment that still has pre-Queens `attachment_specs` migrates them
(cinder objects/volume_attachment.py `_from_db_object`): `attachment_specs_get` reads
the live specs as a dict key -> value (rows in primary-key order, the later of two
equal keys winning), `save()` writes it as the connector with `jsonutils.dumps` (Python's
`json.dumps` defaults: `{"k": "v", "k2": null}`, ", " and ": " separators, ASCII only,
everything else escaped), then each spec is soft-deleted. The live planner computes that
string in Python (`vm_cinder.connector_from_specs`); offline the specs are only known when
the apply runs, so the close computes it in SQL from the specs still live at that moment:

    CONCAT('{', GROUP_CONCAT(CONCAT(JSON_QUOTE(key), ': ', COALESCE(JSON_QUOTE(value), 'null'))
                             ORDER BY id SEPARATOR ', '), '}')

(JSON_OBJECTAGG would promise neither order nor spacing). That is byte-identical to
json.dumps only where JSON_QUOTE escapes as json.dumps does, which holds for printable
ASCII (0x20-0x7E: only `"` and `\\` are escaped, by both) and not beyond: MariaDB leaves
non-ASCII and DEL unescaped and writes `\\u001B` where Python writes `\\u001b`. So the
bundle refuses at run time, before any write, when a spec of an attachment it closes has
a NULL key (Cinder's Dict field rejects it), a key or value with any other byte, or a key
twice (a dict keeps one); and when the server's JSON_QUOTE does not quote every printable
ASCII character as json.dumps does (a probe: the check is the server's, not this
machine's). A refused bundle names the way out: generate live, where Python computes it.
GROUP_CONCAT cannot cut the result: every file sets group_concat_max_len = 1 MiB and the
apply's preflight allows at most 1000 spec rows, each at most 2 x 512 + 4 bytes quoted.

The order of the steps carries the values: the attachments are closed (connector written
from the live specs) before the specs step soft-deletes them, and the rounds give a step
rows only once every step before it is done. The specs step's scope must mean the same
before the apply (the capture), between the two steps and after: the live specs of the
volume's attachments (of the named instances) that are live, or closed with a connector —
which a closed attachment of this bundle has (it had live specs); an attachment closed
before by hand with its legacy specs left and no connector is not this repair's and keeps
them, as Cinder would until it loads it.
"""

from __future__ import annotations

import json

from sqlglot import exp

from generator.ops.operations import FromQuery
from generator.plan import builders as b
from generator.plan.model import Postcondition
from generator.plan.recipe import Selected
from generator.sqlgen.builders import parse as _sql
from generator.sqlgen.builders import parse_query

SPECS, ATTACHMENTS = "attachment_specs", "volume_attachment"
# json.dumps escapes within printable ASCII exactly what JSON_QUOTE does ('"' and '\'): bytes 0x20-0x7E
PRINTABLE_HEX = "^([2-6][0-9A-F]|7[0-9A-E])+$"
PROBE = "".join(chr(i) for i in range(0x20, 0x7F))
LIVE_HINT = "else generate live (--cinder-url), which computes the connector in Python"


def connector_from_live_specs() -> FromQuery:
    """connector := json.dumps of the attachment's live specs (its old value when it has none)."""
    s = SPECS
    quoted = (
        f"CONCAT(JSON_QUOTE({s}.`key`), ': ', COALESCE(JSON_QUOTE({s}.`value`), 'null'))"  # value NULL: null
    )
    query = parse_query(
        f"SELECT COALESCE(CONCAT('{{', GROUP_CONCAT({quoted} ORDER BY {s}.id SEPARATOR ', '), '}}'), "
        f"{ATTACHMENTS}.connector) FROM {s} WHERE {s}.attachment_id = {ATTACHMENTS}.id AND {s}.deleted = 0"
    )
    return FromQuery(query, "json.dumps of its live legacy attachment_specs, in id order (kept if none)")


def _attachment_ids(conds: list[exp.Expr]) -> exp.Select:
    return exp.select("id").from_(ATTACHMENTS).where(exp.and_(*(c.copy() for c in conds)))


def specs_attachments(attachments: list[exp.Expr]) -> Selected:
    """The attachments whose live specs the specs step soft-deletes (see the docstring): those the
    close selects (`attachments`: its conditions without `deleted = 0`) that are live, or closed
    with a connector."""
    kept = exp.Paren(this=_sql("deleted = 0 OR NOT connector IS NULL"))
    return Selected(_attachment_ids([*attachments, kept]), "to close (or closed with their connector)")


def _printable(column: str) -> str:
    # LENGTH, not `= ''`: a collation may compare padding or ignorable characters equal to ''
    return f"(LENGTH({column}) = 0 OR REGEXP_INSTR(HEX({column}), '{PRINTABLE_HEX}') = 1)"


def _hex_pieces(text: str, width: int = 64) -> str:
    """CONCAT of short uppercase hex literals of `text`'s bytes (short: the bundle's 120-column lines)."""
    digits = text.encode().hex().upper()
    return "CONCAT(" + ", ".join(f"'{digits[i : i + width]}'" for i in range(0, len(digits), width)) + ")"


def connector_preconditions(closing: list[exp.Expr]) -> list[Postcondition]:
    """Run-time refusals where the SQL connector would not be json.dumps' bytes (see the docstring)."""
    mine = [b.eq("deleted", 0), exp.column("attachment_id").isin(query=_attachment_ids(closing))]
    s = SPECS
    unsafe = _sql(
        f"{s}.`key` IS NULL OR NOT {_printable(f'{s}.`key`')} "
        f"OR NOT ({s}.`value` IS NULL OR {_printable(f'{s}.`value`')})"
    )
    twice = _sql(  # counted over the attachments: one table per SELECT (sqlfluff AL04)
        f"{ATTACHMENTS}.id IN (SELECT {s}.attachment_id FROM {s} WHERE {s}.deleted = 0 "
        f"GROUP BY {s}.attachment_id, HEX({s}.`key`) HAVING COUNT(*) > 1)"
    )
    probe = _sql(
        f"NOT HEX(JSON_QUOTE(CAST(UNHEX({_hex_pieces(PROBE)}) AS CHAR))) = {_hex_pieces(json.dumps(PROBE))}"
    )
    return [
        Postcondition(
            "cinder",
            "the legacy attachment_specs of the attachments to close have keys and values of printable ASCII "
            f"only (only then does SQL write the connector exactly as json.dumps in Cinder; {LIVE_HINT})",
            b.count_is(s, 0, *(c.copy() for c in mine), exp.Paren(this=unsafe)),
        ),
        Postcondition(
            "cinder",
            f"no attachment to close has a legacy attachment_specs key twice (Cinder keeps one; {LIVE_HINT})",
            b.count_is(ATTACHMENTS, 0, *(c.copy() for c in closing), twice),
        ),
        Postcondition(
            "cinder",
            "JSON_QUOTE on this server escapes printable ASCII as json.dumps of Python does (checked where "
            f"legacy attachment_specs are to be migrated; {LIVE_HINT})",
            b.count_is(s, 0, *(c.copy() for c in mine), probe),
        ),
    ]
