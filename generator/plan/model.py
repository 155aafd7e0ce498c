"""The Plan: everything the render stage needs, decided, and nothing it must look up.

A plan is produced by a pure function of a schema snapshot per database and
the facts read for the target (or none, offline). It never touches a
connection, which is what makes offline generation, golden tests and batch
mode one code path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlglot import exp

from generator.catalog import catalog_snapshot
from generator.connect.optionfile import LABELS
from generator.facts.model import WriteSetLimits
from generator.hostside.model import Vif, VolumeConnection
from generator.ops.operations import Operation
from generator.schema.model import SchemaSnapshot


@dataclass(frozen=True)
class DatabaseTarget:
    role: str  # nova | nova_api | placement | cinder
    label: str  # for people: "Nova cell database (cell1)"
    release: str
    schema: SchemaSnapshot = field(repr=False, compare=False)
    database: str | None = None  # the name it had at generation (live) — informative only
    schema_fingerprint: str | None = None
    detection: str | None = None  # how the release was determined
    write_set: WriteSetLimits | None = None  # live: the server's Galera limits (chunk sizing)
    server: str | None = None  # live: `user@host:port` it was read from — informative only

    @property
    def manifest_target(self) -> str:
        return f"db:{self.role}"


def offline_target(role: str, release: str, option: str = "--release") -> DatabaseTarget:
    """An offline plan's database: the catalog schema of `release`, named by the option that chose
    it (`--cinder-release`, `--placement-release`: the services often run different releases)."""
    snap = catalog_snapshot(release, role)
    how = f"{option} {release} (offline: catalog schema)"
    return DatabaseTarget(role, LABELS[role], release, snap, None, snap.fingerprint(), how)


@dataclass(frozen=True)
class Postcondition:
    """A check the verify step runs: `condition` must be true after the apply."""

    database: str
    description: str
    condition: exp.Expr = field(compare=False)
    # a recipe step's "nothing pending" check keeps its declaration, as Scope does (batch binding)
    template: exp.Expr | None = field(default=None, compare=False, repr=False)
    targets: tuple[object, ...] = field(default=(), compare=False)

    @staticmethod
    def built_later(
        build: Callable[[], exp.Expr], database: str, description: str, template: exp.Expr, targets: tuple
    ) -> Postcondition:
        """A recipe check whose tree is `build()`, built on first use: a batch checks the merged
        declaration (plan/batch.py), so its thousands of per-target trees are never read."""
        check = object.__new__(_BuiltLater)
        fields = {"database": database, "description": description, "template": template, "targets": targets}
        for name, value in fields.items():
            object.__setattr__(check, name, value)
        object.__setattr__(check, "_build", build)
        return check


class _BuiltLater(Postcondition):
    """`Postcondition.built_later`: `condition` built on first use (cached); equal to, and hashed
    as, the Postcondition of the same fields (a subclass would otherwise compare unequal)."""

    _build: Callable[[], exp.Expr]

    @cached_property
    def condition(self) -> exp.Expr:
        return self._build()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Postcondition):
            return NotImplemented
        return (self.database, self.description, self.targets) == (
            other.database,
            other.description,
            other.targets,
        )

    __hash__ = Postcondition.__hash__


@dataclass(frozen=True)
class SessionValue:
    """A value an offline file reads once per transaction into `@name` (a scalar SELECT), so the
    scopes compare the variable instead of repeating the query in every statement. Rendered after
    each START TRANSACTION of the files of `database` (render/offline.py): in the apply as a locking
    read, re-read every round, so it is what each statement would have read at that point."""

    database: str
    name: str  # the session variable, without '@'
    query: exp.Query = field(compare=False)  # a SELECT of one row, one column (or no row: NULL)
    description: str

    def describe(self) -> str:
        return f"@{self.name}: {self.description}"


@dataclass(frozen=True)
class ApiCommand:
    """A supported OpenStack CLI command to try before any SQL."""

    command: str
    why: str


@dataclass(frozen=True)
class ComputeCleanup:
    """What the compute-node script must clean up for one instance on one host."""

    host: str
    instance_uuid: str
    domain_name: str  # libvirt domain name, instance-%08x
    vifs: tuple[Vif, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    instances_path: str = "/var/lib/nova/instances"
    # A volume detach, not an instance removal: the domain is checked but never stopped
    # or undefined, no VIFs or instance files are touched, and a disk the instance's own
    # domain still uses is left connected.
    volumes_only: bool = False
    # The host a rehost's failed move left (source-<host>.sh): the domain must not run there;
    # only the <uuid>_resize directory, the VIFs and the volume sessions no other domain uses
    # are removed, and the domain definition is kept (its state is reported).
    move_leftovers: bool = False


@dataclass(frozen=True)
class ControllerActions:
    memcached_tokens: bool = False  # pre-Stein consoleauth tokens in memcached (never for catalog releases)
    neutron_ports: tuple[str, ...] = ()
    shelved_image: str | None = None
    volumes_to_detach: tuple[str, ...] = ()
    instance_uuid: str | None = None
    preserved_ports: tuple[str, ...] = ()  # preserve_on_delete ports: unbind hints only, never deleted
    volumes_to_delete: tuple[str, ...] = ()  # delete_on_termination volumes, deleted after the SQL apply
    # offline: the delete_on_termination volumes are only known at run time; the Nova cell capture
    # lists them in its rollback file and the script reads them from there (render/offline_doomed.py)
    volumes_from_capture: bool = False
    # rehost: after the apply, bind these ports to rehost_host (binding:host_id still names the
    # old host) and refresh these volumes' attachments with a connector read on rehost_host.
    rehost_host: str | None = None
    rebind_ports: tuple[str, ...] = ()
    refresh_volumes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    target_kind: str  # vm | volume | quota | allocation | mapping
    op: str
    targets: tuple[str, ...]  # instance / volume / consumer uuids, or project ids
    mode: str  # live | offline
    release: str
    databases: tuple[DatabaseTarget, ...]  # in apply order
    operations: tuple[Operation, ...]  # in apply order (grouped by database, FK-safe within)
    postconditions: tuple[Postcondition, ...] = ()
    preconditions: tuple[Postcondition, ...] = ()  # offline: what must hold before the apply changes rows
    session_values: tuple[SessionValue, ...] = ()  # offline: read per transaction, before the scopes
    findings: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    api_first: tuple[ApiCommand, ...] = ()
    compute: tuple[ComputeCleanup, ...] = ()
    controller: ControllerActions | None = None
    extra_controllers: tuple[ControllerActions, ...] = ()  # batch bundles: one controller script per target
    options: Mapping[str, object] = field(default_factory=dict)

    def database(self, role: str) -> DatabaseTarget:
        for db in self.databases:
            if db.role == role:
                return db
        raise KeyError(role)

    def operations_for(self, role: str) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.database == role)
