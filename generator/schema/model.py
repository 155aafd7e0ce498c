"""The one schema model every stage reads: `SchemaSnapshot`.

A snapshot is built either from a live server (`schema.live`) or from the
bundled catalog DDL (`schema.ddl`). Both builders normalise to the same
canonical values so that the two can be compared for equality: column types
as MariaDB spells them in `SHOW CREATE TABLE` (`int(11)`, `varchar(36)`),
defaults as SQL literal text (`NULL`, `'abc'`, `0`, `current_timestamp()`),
foreign-key actions with InnoDB's equivalent RESTRICT/NO ACTION folded away.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

# The four databases fixpack understands, by the name used throughout (manifest
# step targets are `db:<kind>`).
DATABASE_KINDS = ("nova", "nova_api", "placement", "cinder")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None = None
    auto_increment: bool = False

    @property
    def base_type(self) -> str:
        """`varchar(36)` -> `varchar`, `int(11) unsigned` -> `int`."""
        return self.type.split("(", 1)[0].split(" ", 1)[0]

    @property
    def is_numeric(self) -> bool:
        return self.base_type in NUMERIC_TYPES

    @property
    def is_temporal(self) -> bool:
        return self.base_type in TEMPORAL_TYPES


NUMERIC_TYPES = frozenset(
    {
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "integer",
        "bigint",
        "decimal",
        "numeric",
        "float",
        "double",
        "real",
        "bit",
        "bool",
        "boolean",
    }
)
TEMPORAL_TYPES = frozenset({"datetime", "timestamp", "date", "time", "year"})


@dataclass(frozen=True)
class Index:
    """A secondary or unique index; `columns` carry a prefix length as `col(255)`."""

    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None  # CASCADE / SET NULL; None = RESTRICT/NO ACTION
    on_update: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")

    def has_column(self, name: str) -> bool:
        return any(col.name == name for col in self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)

    @property
    def unique_keys(self) -> tuple[tuple[str, ...], ...]:
        """Primary key first, then every unique index (prefix lengths stripped)."""
        keys = [self.primary_key] if self.primary_key else []
        keys += [tuple(c.split("(")[0] for c in ix.columns) for ix in self.indexes if ix.unique]
        return tuple(keys)


@dataclass(frozen=True)
class SchemaSnapshot:
    """Every table of one database, as canonical values.

    `tables` is a tuple sorted by name so equality and hashing are structural;
    use `table()` / `has_table()` for lookups.
    """

    tables: tuple[Table, ...]
    _by_name: Mapping[str, Table] = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.tables, key=lambda t: t.name))
        object.__setattr__(self, "tables", ordered)
        object.__setattr__(self, "_by_name", {t.name: t for t in ordered})

    def table(self, name: str) -> Table:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(name) from None

    def has_table(self, name: str) -> bool:
        return name in self._by_name

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def referencing(self, table: str) -> tuple[tuple[Table, ForeignKey], ...]:
        """Every (child table, foreign key) whose FK points at `table`."""
        return tuple((t, fk) for t in self.tables for fk in t.foreign_keys if fk.ref_table == table)

    def to_dict(self, only: Collection[str] | None = None) -> dict:
        """The JSON form; `only`: just these tables (a bundle records the tables it touches)."""
        return {"tables": [asdict(t) for t in self.tables if only is None or t.name in only]}

    @classmethod
    def from_dict(cls, data: Mapping) -> SchemaSnapshot:
        tables = []
        for t in data["tables"]:
            tables.append(
                Table(
                    name=t["name"],
                    columns=tuple(Column(**c) for c in t["columns"]),
                    primary_key=tuple(t["primary_key"]),
                    indexes=tuple(Index(i["name"], tuple(i["columns"]), i["unique"]) for i in t["indexes"]),
                    foreign_keys=tuple(
                        ForeignKey(
                            f["name"],
                            tuple(f["columns"]),
                            f["ref_table"],
                            tuple(f["ref_columns"]),
                            f["on_delete"],
                            f["on_update"],
                        )
                        for f in t["foreign_keys"]
                    ),
                )
            )
        return cls(tables=tuple(tables))

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON form: equal schemas, equal fingerprints.

        Foreign-key and index *names* are left out: databases upgraded through
        old sqlalchemy-migrate scripts carry auto-generated names that differ
        from a fresh install while meaning the same thing.
        """
        canon = []
        for t in self.tables:
            canon.append(
                {
                    "name": t.name,
                    "columns": [column_dict(c) for c in t.columns],
                    "pk": list(t.primary_key),
                    "indexes": sorted([list(i.columns), i.unique] for i in t.indexes),
                    "fks": sorted(
                        [
                            list(f.columns),
                            f.ref_table,
                            list(f.ref_columns),
                            f.on_delete or "",
                            f.on_update or "",
                        ]
                        for f in t.foreign_keys
                    ),
                }
            )
        blob = json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def column_dict(c: Column) -> dict:
    """`dataclasses.asdict(c)`, spelled out: the fingerprint of every live schema read at generation
    converts a few thousand columns, and asdict's generic recursion was most of that time."""
    return {"name": c.name, "type": c.type, "nullable": c.nullable, "default": c.default,
            "auto_increment": c.auto_increment}  # fmt: skip


def normalise_fk_action(rule: str | None) -> str | None:
    """RESTRICT and NO ACTION are the same thing in InnoDB; both mean 'no action clause'."""
    if rule is None:
        return None
    rule = rule.strip().upper()
    return None if rule in ("", "RESTRICT", "NO ACTION") else rule
