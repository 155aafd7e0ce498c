"""Build a SchemaSnapshot from a live server's information_schema.

Three round trips per database whatever its size (columns, index columns,
foreign-key columns), normalised to the same canonical values as the catalog
DDL reader so live and offline snapshots compare equal.
"""

from __future__ import annotations

from collections import defaultdict

from generator.connect.session import Session
from generator.schema.model import (
    Column,
    ForeignKey,
    Index,
    SchemaSnapshot,
    Table,
    normalise_fk_action,
)

_COLUMNS_SQL = """
SELECT c.TABLE_NAME AS tbl, c.COLUMN_NAME AS col, c.COLUMN_TYPE AS ctype,
       c.DATA_TYPE AS dtype, c.IS_NULLABLE AS nullable, c.COLUMN_DEFAULT AS dflt,
       c.EXTRA AS extra
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t
  ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
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


def _mysql_default(row: dict) -> str | None:
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
    """Introspect the session's database in three round trips."""
    schema = session.database
    mariadb = session.is_mariadb
    columns: dict[str, list[Column]] = defaultdict(list)
    for row in session.query(_COLUMNS_SQL, (schema,)):
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
    for row in session.query(_INDEXES_SQL, (schema,)):
        key = (row["tbl"], row["name"])
        index_cols[key].append(row["col"] + (f"({row['sub_part']})" if row["sub_part"] else ""))
        index_unique[key] = int(row["non_unique"]) == 0

    fk_parts: dict[tuple[str, str], dict] = {}
    for row in session.query(_FKS_SQL, (schema,)):
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

    tables = []
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
        tables.append(
            Table(
                name=name,
                columns=tuple(cols),
                primary_key=pk,
                indexes=tuple(sorted(indexes, key=lambda i: i.name)),
                foreign_keys=tuple(sorted(fks, key=lambda f: f.name)),
            )
        )
    return SchemaSnapshot(tables=tuple(tables))
