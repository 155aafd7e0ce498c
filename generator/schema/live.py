"""Build a SchemaSnapshot from a live server's information_schema.

One round trip per database whatever its size: four SELECTs sent together
(base tables, columns, index columns, foreign-key columns), normalised to the
same canonical values as the catalog DDL reader so live and offline snapshots
compare equal.

The columns are read alone and filtered to base tables here: MariaDB answers
`information_schema.COLUMNS` joined to `TABLES` by opening every table of the
schema once per join row (70 ms for a Nova cell database of 111 tables, against
5 ms for the two read apart), which was most of a live bundle's database time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from generator.connect.session import Session
from generator.schema.model import (
    Column,
    ForeignKey,
    Index,
    SchemaSnapshot,
    Table,
    normalise_fk_action,
)

_TABLES_SQL = """
SELECT TABLE_NAME AS tbl FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'
"""

_COLUMNS_SQL = """
SELECT TABLE_NAME AS tbl, COLUMN_NAME AS col, COLUMN_TYPE AS ctype,
       DATA_TYPE AS dtype, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt,
       EXTRA AS extra
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""

_INDEXES_SQL = """
SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS non_unique,
       COLUMN_NAME AS col, SUB_PART AS sub_part
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

_FKS_SQL = """
SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col,
       k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_col,
       r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""

_QUOTED_DEFAULT_TYPES = frozenset(
    {
        "char",
        "varchar",
        "text",
        "tinytext",
        "mediumtext",
        "longtext",
        "enum",
        "set",
        "binary",
        "varbinary",
        "blob",
        "tinyblob",
        "mediumblob",
        "longblob",
        "datetime",
        "timestamp",
        "date",
        "time",
        "json",
    }
)


def _mysql_default(row: Mapping[str, Any]) -> str | None:
    """MySQL 8 reports defaults unquoted; spell them the way MariaDB/SHOW CREATE does."""
    value = row["dflt"]
    if value is None:
        return "NULL" if row["nullable"] == "YES" else None
    if "DEFAULT_GENERATED" in (row["extra"] or "").upper():
        return value.lower() + ("" if value.endswith(")") else "()")
    if row["dtype"].lower() in _QUOTED_DEFAULT_TYPES:
        return "'" + value.replace("'", "''") + "'"
    return value


def snapshot_from_session(session: Session) -> SchemaSnapshot:
    """Introspect the session's database in one round trip."""
    schema = (session.database,)
    tables, columns, indexes, fks = session.query_many(
        [(_TABLES_SQL, schema), (_COLUMNS_SQL, schema), (_INDEXES_SQL, schema), (_FKS_SQL, schema)]
    )
    return snapshot_from_rows(tables, columns, indexes, fks, mariadb=session.is_mariadb)


def snapshot_from_rows(
    tables: Sequence[Mapping[str, Any]],
    column_rows: Sequence[Mapping[str, Any]],
    index_rows: Sequence[Mapping[str, Any]],
    fk_rows: Sequence[Mapping[str, Any]],
    *,
    mariadb: bool,
) -> SchemaSnapshot:
    """The snapshot of the rows the four SELECTs return; columns of views (not base tables) left out."""
    base = {row["tbl"] for row in tables}
    columns: dict[str, list[Column]] = defaultdict(list)
    for row in column_rows:
        if row["tbl"] not in base:
            continue
        nullable = row["nullable"] == "YES"
        if mariadb:
            default = row["dflt"]
            if default is None and nullable:
                default = "NULL"
        else:
            default = _mysql_default(row)
        columns[row["tbl"]].append(
            Column(
                name=row["col"],
                type=row["ctype"].lower(),
                nullable=nullable,
                default=default,
                auto_increment="auto_increment" in (row["extra"] or "").lower(),
            )
        )

    index_cols: dict[tuple[str, str], list[str]] = defaultdict(list)
    index_unique: dict[tuple[str, str], bool] = {}
    for row in index_rows:
        key = (row["tbl"], row["name"])
        index_cols[key].append(row["col"] + (f"({row['sub_part']})" if row["sub_part"] else ""))
        index_unique[key] = int(row["non_unique"]) == 0

    fk_parts: dict[tuple[str, str], dict] = {}
    for row in fk_rows:
        key = (row["tbl"], row["name"])
        entry = fk_parts.setdefault(
            key,
            {
                "cols": [],
                "ref_cols": [],
                "ref_table": row["ref_table"],
                "on_delete": row["on_delete"],
                "on_update": row["on_update"],
            },
        )
        entry["cols"].append(row["col"])
        entry["ref_cols"].append(row["ref_col"])

    out = []
    for name, cols in columns.items():
        pk: tuple[str, ...] = ()
        indexes = []
        for (tbl, ix_name), ix_cols in index_cols.items():
            if tbl != name:
                continue
            if ix_name == "PRIMARY":
                pk = tuple(ix_cols)
            else:
                indexes.append(Index(ix_name, tuple(ix_cols), index_unique[(tbl, ix_name)]))
        fks = [
            ForeignKey(
                name=fk_name,
                columns=tuple(e["cols"]),
                ref_table=e["ref_table"],
                ref_columns=tuple(e["ref_cols"]),
                on_delete=normalise_fk_action(e["on_delete"]),
                on_update=normalise_fk_action(e["on_update"]),
            )
            for (tbl, fk_name), e in fk_parts.items()
            if tbl == name
        ]
        out.append(
            Table(
                name=name,
                columns=tuple(cols),
                primary_key=pk,
                indexes=tuple(sorted(indexes, key=lambda i: i.name)),
                foreign_keys=tuple(sorted(fks, key=lambda f: f.name)),
            )
        )
    return SchemaSnapshot(tables=tuple(out))
