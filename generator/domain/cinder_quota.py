"""Cinder's quota usage recount, release-aware: what `cinder-manage quota check/sync` counts.

The counts (`UsageCounts`, `recount`) and the same rules as SQL trees (`usage_queries` for the
aggregates live facts and scan read, `recount_queries` for the offline apply's correlated
recount) — one implementation; the rest of Cinder's semantics stays in domain/cinder.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from generator.domain.cinder import USE_QUOTA_ONLY_FROM, at_least
from generator.sqlgen.dialect import to_sql
from generator.sqlgen.literals import literal_node

# -- quota -----------------------------------------------------------------------------
# quota.py VolumeTypeQuotaEngine.resources: global resources with a sync function
# (per_volume_gigabytes is a limit only), and per *live* volume type (volume_type_get_all
# with inactive=False) volumes_<name>, gigabytes_<name>, snapshots_<name>;
# GroupQuotaEngine: groups.
GLOBAL_RESOURCES = ("volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "groups")
PER_TYPE_PARTS = ("volumes", "gigabytes", "snapshots")


@dataclass(frozen=True)
class UsageCounts:
    """What Cinder's sync functions count for one project.

    `volumes`/`snapshots`: volume_type_id -> (count, gigabytes) of the rows the
    recount includes; snapshots are keyed by the type of the volume they belong
    to (`_snapshot_data_get_for_project` joins Snapshot.volume), None when that
    volume row is gone. `backups`: (count, gigabytes). `groups`: count.
    """

    volumes: Mapping[str | None, tuple[int, int]] = field(default_factory=dict)
    snapshots: Mapping[str | None, tuple[int, int]] = field(default_factory=dict)
    backups: tuple[int, int] = (0, 0)
    groups: int = 0

    def plus_backups(self, count: int, gigabytes: int) -> UsageCounts:
        return UsageCounts(
            self.volumes,
            self.snapshots,
            (self.backups[0] + count, self.backups[1] + gigabytes),
            self.groups,
        )


def recount(
    counts: UsageCounts, type_names: Mapping[str, str], *, no_snapshot_gb_quota: bool
) -> dict[str, int]:
    """in_use of every resource Cinder syncs, as `_sync_*` compute it (db api QUOTA_SYNC_FUNCTIONS).

    `type_names`: live volume types, id -> name. gigabytes adds the snapshots'
    volume_size unless CONF.no_snapshot_gb_quota (common/config.py, default False).
    """
    vols_n = sum(n for n, _ in counts.volumes.values())
    vols_gb = sum(gb for _, gb in counts.volumes.values())
    snaps_n = sum(n for n, _ in counts.snapshots.values())
    snaps_gb = sum(gb for _, gb in counts.snapshots.values())
    out = {
        "volumes": vols_n,
        "gigabytes": vols_gb + (0 if no_snapshot_gb_quota else snaps_gb),
        "snapshots": snaps_n,
        "backups": counts.backups[0],
        "backup_gigabytes": counts.backups[1],
        "groups": counts.groups,
    }
    for type_id, name in type_names.items():
        v_n, v_gb = counts.volumes.get(type_id, (0, 0))
        s_n, s_gb = counts.snapshots.get(type_id, (0, 0))
        out[f"volumes_{name}"] = v_n
        out[f"gigabytes_{name}"] = v_gb + (0 if no_snapshot_gb_quota else s_gb)
        out[f"snapshots_{name}"] = s_n
    return out


# -- the recount as SQL: one set of trees for the facts' aggregates (live) and the apply's
# correlated recount (offline); `recount` above is its arithmetic on the counts read.


def _col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table)


def _is(table: str, name: str, value: object) -> exp.Expr:
    return exp.EQ(this=_col(table, name), expression=literal_node(value))


def volume_counted(release: str, table: str = "volumes") -> exp.Expr:
    """The WHERE terms `_volume_data_get_for_project(skip_internal=True)` adds (besides
    deleted = 0 and project_id); `table`: the name or alias the columns are qualified with.

    Xena .. 2023.2: not a migration destination (migration_status NULL or not
    'target:%'), use_quota not false (NULL counts), and no live admin metadata
    temporary = 'True' (Cinder's NOT EXISTS, written as NOT IN: volume_id is NOT NULL).
    2024.1+: use_quota alone (the column became NOT NULL).
    """
    if at_least(release, USE_QUOTA_ONLY_FROM):
        return _is(table, "use_quota", 1)
    migration = _col(table, "migration_status")
    not_a_target = exp.or_(
        exp.Is(this=migration, expression=exp.Null()),
        exp.Like(this=migration.copy(), expression=literal_node("target:%"), negate=True),
    )
    m = "volume_admin_metadata"
    temporary = (
        exp.select(_col(m, "volume_id"))
        .from_(m)
        .where(exp.and_(_is(m, "deleted", 0), _is(m, "key", "temporary"), _is(m, "value", "True")))
    )
    return exp.and_(*_volume_counted_terms(not_a_target, table, temporary))


def _volume_counted_terms(not_a_target: exp.Expr, table: str, temporary: exp.Query) -> list[exp.Expr]:
    return [
        exp.Paren(this=not_a_target),
        exp.Not(this=exp.Is(this=_col(table, "use_quota"), expression=exp.false())),
        exp.Not(this=_col(table, "id").isin(query=temporary)),
    ]


def snapshot_counted(release: str, table: str = "snapshots") -> exp.Expr:
    """`_snapshot_data_get_for_project(skip_internal=True)`: use_quota not false, resp. true (2024.1+)."""
    if at_least(release, USE_QUOTA_ONLY_FROM):
        return _is(table, "use_quota", 1)
    return exp.Not(this=exp.Is(this=_col(table, "use_quota"), expression=exp.false()))


def counted_rows(
    kind: str, release: str, table: str, project: exp.Expr, *, exclude_volume: str | None = None
) -> exp.Expr:
    """The rows `_sync_<kind>` counts for a project (`project`: the condition on the
    `table.project_id` column; `exclude_volume`: without that volume, resp. its snapshots or
    backups). kind: volumes, snapshots, backups, groups."""
    return exp.and_(*counted_terms(kind, release, table, project, exclude_volume=exclude_volume))


def counted_terms(
    kind: str, release: str, table: str, project: exp.Expr, *, exclude_volume: str | None = None
) -> list[exp.Expr]:
    """`counted_rows` as its conjuncts (a query adding terms keeps one flat AND)."""
    if kind not in ("volumes", "snapshots", "backups", "groups"):
        raise ValueError(f"Cinder syncs no {kind!r}")
    terms = [_is(table, "deleted", 0), project]
    if exclude_volume is not None:
        if kind == "volumes":
            terms.append(exp.NEQ(this=_col(table, "id"), expression=literal_node(exclude_volume)))
        elif kind == "snapshots":
            terms.append(exp.NEQ(this=_col(table, "volume_id"), expression=literal_node(exclude_volume)))
        elif kind == "backups":
            same = exp.NullSafeEQ(this=_col(table, "volume_id"), expression=literal_node(exclude_volume))
            terms.append(exp.Not(this=exp.Paren(this=same)))
    if kind in ("volumes", "snapshots"):
        counted = volume_counted(release, table) if kind == "volumes" else snapshot_counted(release, table)
        terms += list(counted.flatten()) if isinstance(counted, exp.And) else [counted]
    return terms


def usage_queries(release: str, projects: Iterable[str] | None, exclude_volume: str | None) -> dict[str, str]:
    """The aggregate SELECTs behind `recount`, grouped by project (one statement per kind).

    `exclude_volume`: leave out that volume and the snapshots and backups that
    belong to it (the repair removes them; the planner adds back what stays).
    """
    values = sorted(set(projects)) if projects is not None else None

    def where(kind: str, alias: str) -> exp.Expr:
        column = _col(alias, "project_id")
        if values is None:
            project: exp.Expr = exp.EQ(this=literal_node(1), expression=literal_node(1))
        elif values:
            project = column.isin(*(literal_node(p) for p in values))
        else:
            project = exp.EQ(this=literal_node(1), expression=literal_node(0))
        return counted_rows(kind, release, alias, project, exclude_volume=exclude_volume)

    def table(name: str, alias: str) -> exp.Expr:
        return exp.alias_(exp.to_table(name), alias, table=True)

    def n_gb(alias: str, size: str) -> list[exp.Expr]:
        return [
            exp.alias_(exp.Count(this=_col(alias, "id")), "n"),
            exp.alias_(
                exp.Coalesce(this=exp.Sum(this=_col(alias, size)), expressions=[literal_node(0)]), "gb"
            ),
        ]

    volumes = (
        exp.select(
            _col("v", "project_id"), exp.alias_(_col("v", "volume_type_id"), "type_id"), *n_gb("v", "size")
        )
        .from_(table("volumes", "v"))
        .where(where("volumes", "v"))
        .group_by(_col("v", "project_id"), _col("v", "volume_type_id"))
    )
    snapshots = (
        exp.select(
            _col("s", "project_id"),
            exp.alias_(_col("v", "volume_type_id"), "type_id"),
            *n_gb("s", "volume_size"),
        )
        .from_(table("snapshots", "s"))
        .join(
            table("volumes", "v"),
            on=exp.EQ(this=_col("v", "id"), expression=_col("s", "volume_id")),
            join_type="left",
        )
        .where(where("snapshots", "s"))
        .group_by(_col("s", "project_id"), _col("v", "volume_type_id"))
    )
    backups = (
        exp.select(_col("b", "project_id"), *n_gb("b", "size"))
        .from_(table("backups", "b"))
        .where(where("backups", "b"))
        .group_by(_col("b", "project_id"))
    )
    groups = (
        exp.select(_col("g", "project_id"), exp.alias_(exp.Count(this=_col("g", "id")), "n"))
        .from_(table("groups", "g"))
        .where(where("groups", "g"))
        .group_by(_col("g", "project_id"))
    )
    queries = {"volumes": volumes, "snapshots": snapshots, "backups": backups, "groups": groups}
    return {kind: to_sql(query) for kind, query in queries.items()}


def recount_queries(
    release: str, *, exclude_volume: str, no_snapshot_gb_quota: bool
) -> dict[str, tuple[exp.Query, exp.Expr]]:
    """Cinder's recount of one quota_usages row, as a scalar subquery correlated to the row's
    project (and, per volume type, its resource `<part>_<live type name>`): resource -> (recount,
    which rows of quota_usages it is for). `exclude_volume`: without that volume and its
    snapshots (its backups stay). Per-type keys end with "_". Full table names, no aliases:
    each table appears once per subquery and a bundle's lint resolves `table`.`column`."""
    q, v, s, k, g = "quota_usages", "volumes", "snapshots", "backups", "groups"
    project = {t: exp.EQ(this=_col(t, "project_id"), expression=_col(q, "project_id")) for t in (v, s, k, g)}
    vol = counted_terms("volumes", release, v, project[v], exclude_volume=exclude_volume)
    snap = counted_terms("snapshots", release, s, project[s], exclude_volume=exclude_volume)
    backups = counted_terms("backups", release, k, project[k])
    groups = counted_terms("groups", release, g, project[g])

    def where(terms: list[exp.Expr], *more: exp.Expr) -> exp.Expr:
        return exp.and_(*(t.copy() for t in terms), *more)

    def live_type(part: str) -> exp.Query:
        name = exp.Concat(expressions=[literal_node(f"{part}_"), _col("volume_types", "name")])
        return (
            exp.select(_col("volume_types", "id"))
            .from_("volume_types")
            .where(
                exp.and_(_is("volume_types", "deleted", 0), exp.EQ(this=name, expression=_col(q, "resource")))
            )
        )

    def of_type(part: str, table: str) -> exp.Expr:
        if table == v:
            return _col(v, "volume_type_id").isin(query=live_type(part))
        typed = (
            exp.select(_col(v, "id")).from_(v).where(_col(v, "volume_type_id").isin(query=live_type(part)))
        )
        return _col(s, "volume_id").isin(query=typed)

    def count(table: str, where: exp.Expr) -> exp.Query:
        return exp.select(exp.Count(this=_col(table, "id"))).from_(table).where(where)

    def total(table: str, size: str, where: exp.Expr) -> exp.Query:
        summed = exp.Coalesce(this=exp.Sum(this=_col(table, size)), expressions=[literal_node(0)])
        return exp.select(summed).from_(table).where(where)

    def gigabytes(part: str | None) -> exp.Query:
        vol_where = where(vol) if part is None else where(vol, of_type(part, v))
        out: exp.Expr = total(v, "size", vol_where).subquery()
        if not no_snapshot_gb_quota:
            snap_where = where(snap) if part is None else where(snap, of_type(part, s))
            out = exp.Add(this=out, expression=total(s, "volume_size", snap_where).subquery())
        return exp.select(out)

    def per_type(part: str) -> exp.Expr:
        name = exp.Concat(expressions=[literal_node(f"{part}_"), _col("volume_types", "name")])
        names = exp.select(name).from_("volume_types").where(_is("volume_types", "deleted", 0))
        return _col(q, "resource").isin(query=names)

    def one(resource: str) -> exp.Expr:
        return exp.EQ(this=exp.column("resource"), expression=literal_node(resource))

    return {
        "volumes": (count(v, where(vol)), one("volumes")),
        "gigabytes": (gigabytes(None), one("gigabytes")),
        "snapshots": (count(s, where(snap)), one("snapshots")),
        "backups": (count(k, where(backups)), one("backups")),
        "backup_gigabytes": (total(k, "size", where(backups)), one("backup_gigabytes")),
        "groups": (count(g, where(groups)), one("groups")),
        "volumes_": (count(v, where(vol, of_type("volumes", v))), per_type("volumes")),
        "gigabytes_": (gigabytes("gigabytes"), per_type("gigabytes")),
        "snapshots_": (count(s, where(snap, of_type("snapshots", s))), per_type("snapshots")),
    }


def counts_from_rows(results: Mapping[str, list[dict]]) -> dict[str, UsageCounts]:
    """project_id -> UsageCounts from the rows of `usage_queries` (SUM is DECIMAL: made int)."""
    volumes: dict[str, dict] = {}
    snapshots: dict[str, dict] = {}
    backups: dict[str, tuple[int, int]] = {}
    groups: dict[str, int] = {}
    for r in results.get("volumes", ()):
        volumes.setdefault(r["project_id"], {})[r["type_id"]] = (int(r["n"]), int(r["gb"]))
    for r in results.get("snapshots", ()):
        snapshots.setdefault(r["project_id"], {})[r["type_id"]] = (int(r["n"]), int(r["gb"]))
    for r in results.get("backups", ()):
        backups[r["project_id"]] = (int(r["n"]), int(r["gb"]))
    for r in results.get("groups", ()):
        groups[r["project_id"]] = int(r["n"])
    projects = set(volumes) | set(snapshots) | set(backups) | set(groups)
    return {
        p: UsageCounts(volumes.get(p, {}), snapshots.get(p, {}), backups.get(p, (0, 0)), groups.get(p, 0))
        for p in projects
    }
