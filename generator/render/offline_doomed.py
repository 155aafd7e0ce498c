"""The delete_on_termination volumes of an offline VM delete, recorded by the Nova cell capture.

A live bundle knows them at generation and `shell/controller.sh` deletes them through Cinder's
API once the SQL apply has ended their attachments (Nova's `_cleanup_volumes`). Offline they
are only known when the files run, and the apply soft-deletes (or purges) the very BDM rows that
name them. So the capture of the Nova cell, taken before the apply in the same read-only
snapshot as the rollback, prints them into the captured rollback file as comment lines, which
the offline `controller.sh` reads (templates/shell/controller.sh.j2, `read_captured_volumes`):

    -- fixpack delete_on_termination volumes of instance <instance>: N
    -- fixpack delete_on_termination volume of instance <instance>: <uuid>
    -- fixpack delete_on_termination volume of instance <instance> not a UUID (hex): <HEX>

(a batch bundle lists every instance's; each instance's controller script reads its own).

`volume_id` is database content, so it is printed as it is only when it has exactly a UUID's
form (36 characters of hex digits and dashes: no newline can end a comment early and start a
statement); any other value is printed as hex, which the script reports and never deletes.
The count line lets the script refuse a file with lines missing or added.
"""

from __future__ import annotations

from sqlglot import exp

from generator.plan import builders as b
from generator.render.offline_capture import concat, text
from generator.sqlgen.dialect import to_sql

PREFIX = "-- fixpack delete_on_termination volume"


def prefixes(u: str) -> tuple[str, str, str]:
    """Instance `u`'s count, volume and not-a-UUID line prefixes (controller.sh.j2 spells them alike)."""
    return (
        f"{PREFIX}s of instance {u}: ",
        f"{PREFIX} of instance {u}: ",
        f"{PREFIX} of instance {u} not a UUID (hex): ",
    )


UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _doomed(u: str) -> exp.Expr:
    """Nova's `_cleanup_volumes` candidates: the instance's live volume BDMs with delete_on_termination."""
    return exp.and_(
        b.eq("instance_uuid", u),
        b.eq("deleted", 0),
        b.eq("delete_on_termination", 1),
        exp.Not(this=exp.Is(this=exp.column("volume_id"), expression=exp.Null())),
    )


def _is_uuid(column: exp.Expr) -> exp.Expr:
    """Exactly a UUID's 36 characters (REGEXP_REPLACE: the dialect renders no REGEXP operator MariaDB has)."""
    lowered = exp.Lower(this=column.copy())
    rest = exp.Anonymous(
        this="REGEXP_REPLACE", expressions=[lowered, exp.Literal.string(UUID_PATTERN), exp.Literal.string("")]
    )
    length = exp.Anonymous(this="CHAR_LENGTH", expressions=[column.copy()])
    return exp.and_(
        exp.EQ(this=length, expression=exp.Literal.number(36)),
        exp.EQ(this=rest, expression=exp.Literal.string("")),
    )


def capture_lines(u: str) -> list[str]:
    """Capture statements printing the count line, then one line per volume (in volume_id order)."""
    volume = exp.column("volume_id")
    shown = exp.If(
        this=_is_uuid(volume),
        true=concat(text(prefixes(u)[1]), exp.Lower(this=volume.copy())),
        false=concat(text(prefixes(u)[2]), exp.Hex(this=volume.copy())),
    )
    listed = (
        exp.select(exp.alias_(shown, "line"))
        .distinct()
        .from_("block_device_mapping")
        .where(_doomed(u))
        .order_by(exp.Ordered(this=exp.column("line"), nulls_first=True))
    )
    # the count of the very lines listed (one per distinct line), so the two always agree
    lines = (
        exp.select(exp.alias_(shown.copy(), "line"))
        .distinct()
        .from_("block_device_mapping")
        .where(_doomed(u))
    )
    count = exp.select(exp.Count(this=exp.Star())).from_(lines.subquery("listed"))
    counted = exp.select(
        exp.alias_(
            concat(text(prefixes(u)[0]), exp.Cast(this=count.subquery(), to=exp.DataType.build("CHAR"))),
            "line",
        )
    )
    return [to_sql(counted) + ";", to_sql(listed) + ";"]
