"""Build a SchemaSnapshot offline from catalog DDL (`SHOW CREATE TABLE` text).

The catalog stores each database exactly as MariaDB prints it after the real
service's `db sync`, so the grammar to read is the small, regular one that
`SHOW CREATE TABLE` emits — not arbitrary MySQL. Anything outside it is an
error rather than a guess, because a silently misread catalog would make every
later stage wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.errors import SchemaProblem
from generator.schema.model import (
    Column,
    ForeignKey,
    Index,
    SchemaSnapshot,
    Table,
    normalise_fk_action,
)

_IDENT = r"`((?:[^`]|``)+)`"
_COLUMN_RE = re.compile(
    _IDENT
    + r"\s+(?P<type>[a-z]+(?:\((?:[^()']|'(?:[^']|'')*')*\))?(?:\s+unsigned)?(?:\s+zerofill)?)"
    + r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_PK_RE = re.compile(r"PRIMARY KEY \((?P<cols>.*)\)")
_KEY_RE = re.compile(r"(?P<unique>UNIQUE )?KEY " + _IDENT + r" \((?P<cols>.*)\)")
_FK_RE = re.compile(
    r"CONSTRAINT "
    + _IDENT
    + r" FOREIGN KEY \((?P<cols>[^)]*)\) REFERENCES "
    + _IDENT
    + r" \((?P<refcols>[^)]*)\)(?P<actions>.*)$"
)
_ACTION_RE = re.compile(r"ON (DELETE|UPDATE) (CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)")
_LITERAL_RE = re.compile(
    r"'(?:[^'\\]|''|\\.)*'"  # quoted string
    r"|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"  # number
    r"|NULL"
    r"|b'[01]*'"
    r"|[a-z_]+\(\d*\)",  # current_timestamp(), current_timestamp(6)
    re.IGNORECASE,
)


def _unquote_ident(text: str) -> str:
    return text.replace("``", "`")


def _ident_list(text: str) -> tuple[str, ...]:
    """ "`a`,`b`(255)" -> ("a", "b(255)")."""
    out = []
    for m in re.finditer(_IDENT + r"(\(\d+\))?", text):
        out.append(_unquote_ident(m.group(1)) + (m.group(2) or ""))
    return tuple(out)


def _parse_column(line: str, table: str) -> Column:
    m = _COLUMN_RE.match(line)
    if not m:
        raise SchemaProblem(f"catalog DDL: cannot read column of {table}: {line!r}")
    name = _unquote_ident(m.group(1))
    ctype = m.group("type")
    rest = m.group("rest").strip()
    nullable = True
    default: str | None = None
    auto_increment = False
    while rest:
        upper = rest.upper()
        if upper.startswith("NOT NULL"):
            nullable, rest = False, rest[8:]
        elif upper.startswith("NULL"):
            rest = rest[4:]
        elif upper.startswith("DEFAULT "):
            lit = _LITERAL_RE.match(rest[8:])
            if not lit:
                raise SchemaProblem(f"catalog DDL: cannot read default of {table}.{name}")
            default, rest = lit.group(0), rest[8 + lit.end() :]
        elif upper.startswith("AUTO_INCREMENT"):
            auto_increment, rest = True, rest[14:]
        elif upper.startswith("CHARACTER SET ") or upper.startswith("COLLATE "):
            words = rest.split(None, 3 if upper.startswith("CHARACTER") else 2)
            rest = words[-1] if len(words) > (3 if upper.startswith("CHARACTER") else 2) else ""
        elif upper.startswith("ON UPDATE "):
            lit = _LITERAL_RE.match(rest[10:])
            rest = rest[10 + (lit.end() if lit else 0) :]
        elif upper.startswith("COMMENT "):
            lit = _LITERAL_RE.match(rest[8:])
            rest = rest[8 + (lit.end() if lit else 0) :]
        elif upper.startswith("CHECK ") or upper.startswith("INVISIBLE"):
            break  # not part of the snapshot model
        else:
            raise SchemaProblem(f"catalog DDL: unexpected text in {table}.{name}: {rest!r}")
        rest = rest.strip()
    if nullable and default is None:
        default = "NULL"
    return Column(name, ctype.lower(), nullable, default, auto_increment)


def parse_create_table(statement: str) -> Table:
    """Parse one `SHOW CREATE TABLE` statement into a Table."""
    lines = [ln.strip().rstrip(",") for ln in statement.strip().splitlines()]
    head = re.match(r"CREATE TABLE " + _IDENT + r" \(", lines[0])
    if not head:
        raise SchemaProblem(f"catalog DDL: not a CREATE TABLE: {lines[0]!r}")
    name = _unquote_ident(head.group(1))
    columns: list[Column] = []
    pk: tuple[str, ...] = ()
    indexes: list[Index] = []
    fks: list[ForeignKey] = []
    for line in lines[1:]:
        if line.startswith(")"):
            break
        if line.startswith("`"):
            columns.append(_parse_column(line, name))
        elif m := _PK_RE.match(line):
            pk = _ident_list(m.group("cols"))
        elif m := _KEY_RE.match(line):
            indexes.append(
                Index(_unquote_ident(m.group(2)), _ident_list(m.group("cols")), bool(m.group("unique")))
            )
        elif m := _FK_RE.match(line):
            actions = dict(_ACTION_RE.findall(m.group("actions")))
            fks.append(
                ForeignKey(
                    name=_unquote_ident(m.group(1)),
                    columns=_ident_list(m.group("cols")),
                    ref_table=_unquote_ident(m.group(3)),
                    ref_columns=_ident_list(m.group("refcols")),
                    on_delete=normalise_fk_action(actions.get("DELETE")),
                    on_update=normalise_fk_action(actions.get("UPDATE")),
                )
            )
        elif (line.startswith("CONSTRAINT ") and " CHECK " in line) or line.startswith(
            ("FULLTEXT KEY", "SPATIAL KEY")
        ):
            continue
        else:
            raise SchemaProblem(f"catalog DDL: unexpected line in {name}: {line!r}")
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=pk,
        indexes=tuple(sorted(indexes, key=lambda i: i.name)),
        foreign_keys=tuple(sorted(fks, key=lambda f: f.name)),
    )


def iter_create_tables(ddl: str) -> Iterator[str]:
    """Yield each CREATE TABLE statement of a catalog file."""
    block: list[str] = []
    for line in ddl.splitlines():
        if line.startswith("CREATE TABLE "):
            block = [line]
        elif block:
            block.append(line)
            if line.startswith(")"):
                yield "\n".join(block)
                block = []
    if block:
        raise SchemaProblem("catalog DDL: unterminated CREATE TABLE")


def snapshot_from_ddl(ddl: str) -> SchemaSnapshot:
    return SchemaSnapshot(tables=tuple(parse_create_table(s) for s in iter_create_tables(ddl)))
