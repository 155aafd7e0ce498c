"""The live schema snapshot built from information_schema rows (no server: the rows are given), and
the column form its fingerprint hashes."""

from __future__ import annotations

from dataclasses import asdict

from generator.schema.live import snapshot_from_rows
from generator.schema.model import Column, column_dict


def _column(table: str, name: str, ctype: str = "int(11)", nullable: str = "NO") -> dict:
    return {"tbl": table, "col": name, "ctype": ctype, "dtype": ctype.split("(")[0], "nullable": nullable,
            "dflt": None, "extra": ""}  # fmt: skip


def test_columns_of_a_view_are_left_out_of_the_snapshot() -> None:
    # information_schema.COLUMNS lists a view's columns too; only base tables make the snapshot
    columns = [_column("instances", "id"), _column("instances", "uuid", "varchar(36)", "YES"),
               _column("instances_view", "id")]  # fmt: skip
    indexes = [{"tbl": "instances", "name": "PRIMARY", "non_unique": 0, "col": "id", "sub_part": None}]
    snap = snapshot_from_rows([{"tbl": "instances"}], columns, indexes, [], mariadb=True)
    assert [t.name for t in snap.tables] == ["instances"]
    assert snap.table("instances").column_names == ("id", "uuid")
    assert snap.table("instances").primary_key == ("id",)


def test_the_fingerprint_column_form_is_the_dataclass_form() -> None:
    # column_dict spells asdict out for speed: a field added to Column must be added there too
    column = Column("uuid", "varchar(36)", True, "NULL", False)
    assert column_dict(column) == asdict(column)
    assert list(column_dict(column)) == list(asdict(column))
