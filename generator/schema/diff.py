"""Compare two SchemaSnapshots: what an operator's database has that the catalog lacks.

Operators' databases drift: a hand-added index, a column left behind by an
aborted upgrade, foreign keys with old auto-generated names. The diff is a
flat list of `Difference`s so the CLI can print or JSON-encode them and the
planner can refuse to plan against a table it does not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.schema.model import SchemaSnapshot, Table

_INT_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)")


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_table | extra_table | missing_column | extra_column | column_changed |
    #            primary_key_changed | missing_index | extra_index | missing_fk | extra_fk
    table: str
    item: str = ""
    expected: str = ""
    found: str = ""

    def describe(self) -> str:
        where = f"{self.table}.{self.item}" if self.item else self.table
        text = f"{self.kind.replace('_', ' ')}: {where}"
        if self.expected or self.found:
            text += f" (catalog: {self.expected or '-'}; database: {self.found or '-'})"
        return text


def _canonical_type(ctype: str) -> str:
    """MySQL 8 drops integer display widths that MariaDB prints; compare without them."""
    return _INT_WIDTH.sub(r"\1", ctype)


def _col_text(table: Table, name: str) -> str:
    c = table.column(name)
    return (
        f"{_canonical_type(c.type)} {'NULL' if c.nullable else 'NOT NULL'}"
        + (f" DEFAULT {c.default}" if c.default not in (None, "NULL") else "")
        + (" AUTO_INCREMENT" if c.auto_increment else "")
    )


def diff_snapshots(expected: SchemaSnapshot, found: SchemaSnapshot) -> list[Difference]:
    """Differences of `found` (live) against `expected` (catalog), by name, sorted."""
    out: list[Difference] = []
    for name in expected.table_names:
        if not found.has_table(name):
            out.append(Difference("missing_table", name))
    for name in found.table_names:
        if not expected.has_table(name):
            out.append(Difference("extra_table", name))
    for name in expected.table_names:
        if not found.has_table(name):
            continue
        exp_t, got_t = expected.table(name), found.table(name)
        for col in exp_t.column_names:
            if not got_t.has_column(col):
                out.append(Difference("missing_column", name, col, _col_text(exp_t, col)))
            elif _col_text(exp_t, col) != _col_text(got_t, col):
                out.append(
                    Difference("column_changed", name, col, _col_text(exp_t, col), _col_text(got_t, col))
                )
        for col in got_t.column_names:
            if not exp_t.has_column(col):
                out.append(Difference("extra_column", name, col, "", _col_text(got_t, col)))
        if exp_t.primary_key != got_t.primary_key:
            out.append(
                Difference(
                    "primary_key_changed", name, "", ",".join(exp_t.primary_key), ",".join(got_t.primary_key)
                )
            )
        exp_ix = {(ix.columns, ix.unique): ix.name for ix in exp_t.indexes}
        got_ix = {(ix.columns, ix.unique): ix.name for ix in got_t.indexes}
        for key, ix_name in exp_ix.items():
            if key not in got_ix:
                out.append(
                    Difference(
                        "missing_index", name, ix_name, ("UNIQUE " if key[1] else "") + ",".join(key[0])
                    )
                )
        for key, ix_name in got_ix.items():
            if key not in exp_ix:
                out.append(
                    Difference(
                        "extra_index", name, ix_name, "", ("UNIQUE " if key[1] else "") + ",".join(key[0])
                    )
                )
        exp_fk = {(f.columns, f.ref_table, f.ref_columns): f.name for f in exp_t.foreign_keys}
        got_fk = {(f.columns, f.ref_table, f.ref_columns): f.name for f in got_t.foreign_keys}
        for fk, fk_name in exp_fk.items():
            if fk not in got_fk:
                out.append(
                    Difference(
                        "missing_fk", name, fk_name, f"{','.join(fk[0])} -> {fk[1]}({','.join(fk[2])})"
                    )
                )
        for fk, fk_name in got_fk.items():
            if fk not in exp_fk:
                out.append(
                    Difference(
                        "extra_fk", name, fk_name, "", f"{','.join(fk[0])} -> {fk[1]}({','.join(fk[2])})"
                    )
                )
    return sorted(out, key=lambda d: (d.table, d.kind, d.item))
