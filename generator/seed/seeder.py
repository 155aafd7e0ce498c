"""The public seeding API: realistic rows in every database of a Deployment, any release.

Repair bundles are proven by running them against a real server, so the rows they run
against must be the rows the services really write — including the awkward states an
operator meets (stuck migrations with swapped allocations, shelved instances holding
reserved attachments, instances buried in cell0, multiattach volumes). A Seeder queues
rows in memory and `flush()` writes them in bulk, one transaction per database, with
foreign-key checks on. The same seed always gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pymysql

from generator.catalog import get_release
from generator.scratch.deployment import Deployment
from generator.seed import activity, attach, bulk, hosts, nova, quota, shapes
from generator.seed.cinder import CinderSeeder, VolumeState
from generator.seed.context import SeedContext
from generator.seed.model import (
    MIGRATION_TYPES,
    VIF_TYPES,
    ComputeHost,
    HostState,
    InstanceState,
    SeededInstance,
    SeededVolume,
)
from generator.seed.placement import PlacementSeeder
from generator.seed.values import FLAVOR_ORDER, FLAVORS
from generator.seed.writer import SeedError

# migration statuses after which the instance record already points at the destination
MOVED_STATUSES = frozenset({"finished", "confirming", "post-migrating"})
HostArg = ComputeHost | str | None


class Seeder:
    """Seed a Deployment like nova, placement and cinder would have written it."""

    def __init__(self, dep: Deployment, seed: int = 1, *, consumer_types: bool = False) -> None:
        """`consumer_types=True` sets placement consumers' consumer_type_id (INSTANCE /
        MIGRATION) as a microversion-1.38 client would; nova itself leaves it NULL."""
        self.dep = dep
        self.ctx = SeedContext(dep, seed, consumer_types=consumer_types)
        self.placement = PlacementSeeder(self.ctx)
        self.cinder = CinderSeeder(self.ctx)
        self._volumes: dict[str, VolumeState] = {}
        self.ctx.buf.pre_flush.append(self._fold_derived_values)
        hosts.load_existing(self.ctx)

    @property
    def release(self) -> str:
        return self.ctx.release

    @property
    def rows_written(self) -> int:
        return self.ctx.buf.rows_written

    # keystone ------------------------------------------------------------------
    def project(self) -> str:
        """A new Keystone project (with two users and a tenant network); returns its id."""
        return self.ctx.new_project().id

    def users(self, project_id: str) -> list[str]:
        return [u.id for u in self.ctx.project(project_id).users]

    # compute hosts -------------------------------------------------------------
    def compute_host(
        self,
        host: str | None = None,
        *,
        enabled: bool = True,
        hypervisor_hostname: str | None = None,
        vcpus: int = 64,
        memory_mb: int = 262144,
        local_gb: int = 2000,
    ) -> ComputeHost:
        """nova-compute service + compute node (cell1), resource provider, host mapping."""
        name = host or f"cmp-{len(self.ctx.hosts) + 1:02d}"
        if name in self.ctx.hosts:
            raise SeedError(f"compute host {name!r} already seeded")
        state = hosts.add_compute_host(
            self.ctx, self.placement, name, enabled=enabled, hypervisor_hostname=hypervisor_hostname,
            vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb,
            service_version=get_release(self.release).compute_service_version,
        )  # fmt: skip
        return state.public

    def _host(self, host: HostArg) -> HostState:
        if host is None:
            picked = self.ctx.pick_host("cell1")
            if picked is not None:
                return picked
            return self.ctx.hosts[self.compute_host().host]
        name = host.host if isinstance(host, ComputeHost) else host
        if name not in self.ctx.hosts:
            self.compute_host(name)
        return self.ctx.hosts[name]

    # instances -----------------------------------------------------------------
    def instance(
        self,
        host: HostArg = None,
        project_id: str | None = None,
        user_id: str | None = None,
        vm_state: str = "active",
        task_state: str | None = None,
        power_state: int = 1,
        vif_types: Sequence[str] = ("ovs_hybrid",),
        volumes: int = 0,
        cell: str = "cell1",
        tags: Sequence[str] = ("web",),
        metadata: dict[str, str] | None = None,
        faults: int = 1,
        actions: int = 2,
        migration: str | None = None,
        migration_status: str = "error",
        console_tokens: int = 1,
        pci_devices: int = 0,
        shelved: bool = False,
        display_name: str | None = None,
        deleted: bool = False,
        *,
        flavor: str = "m1.small",
        new_flavor: str | None = None,
        volume_protocol: str = "iscsi",
        build_request: bool | None = None,
        uuid: str | None = None,
    ) -> SeededInstance:
        """One instance with every row nova, nova_api, placement (and cinder) hold for it.

        cell="cell0" is a build that failed scheduling: no host, vm_state error, no
        VIFs/volumes/allocations, and (by default) a leftover build_requests row.
        `migration` leaves a move in `migration_status` with nova's allocation swap:
        the migration consumer holds the source allocations (old flavor), the instance
        the destination ones. `shelved` gives a shelved_offloaded instance (no host, no
        allocations, reserved volume attachments); `deleted` a soft-deleted one.
        """
        ctx = self.ctx
        for vt in vif_types:
            if vt not in VIF_TYPES:
                raise SeedError(f"unknown vif type {vt!r}; expected one of {', '.join(VIF_TYPES)}")
        if migration is not None and migration not in MIGRATION_TYPES:
            raise SeedError(f"unknown migration {migration!r}; expected one of {', '.join(MIGRATION_TYPES)}")
        if flavor not in FLAVORS:
            raise SeedError(f"unknown flavor {flavor!r}")
        cell0 = cell == "cell0"
        ctx.cell_role(cell)
        if cell0 and (host is not None or volumes or migration or pci_devices or shelved):
            raise SeedError("a cell0 instance never reached a host: no host/volumes/migration/pci/shelve")
        if shelved and (migration or pci_devices):
            raise SeedError("a shelved_offloaded instance holds no migration or PCI devices")
        project = ctx.project(project_id)
        user = ctx.user(project, user_id)
        name = display_name or f"vm-{len(ctx.instances) + 1}"
        placed = None if cell0 else self._host(host)
        source = dest = None
        if migration:
            source = placed
            dest = ctx.pick_host("cell1", exclude=source) or self._host(f"cmp-{len(ctx.hosts) + 1:02d}")
            if migration == "resize":
                new_flavor = (
                    new_flavor or FLAVOR_ORDER[min(FLAVOR_ORDER.index(flavor) + 1, len(FLAVOR_ORDER) - 1)]
                )
            else:
                new_flavor = flavor
            if migration_status in MOVED_STATUSES:
                placed = dest
        if cell0:
            vm_state, task_state, power_state = "error", None, 0
        if shelved:
            vm_state, task_state, power_state = "shelved_offloaded", None, 0
        spec = nova.InstanceSpec(
            cell=cell, host=None if shelved else placed, project=project, user=user, flavor=flavor,
            display_name=name, vm_state=vm_state, task_state=task_state, power_state=power_state,
            vif_types=tuple(vif_types), tags=tuple(tags),
            metadata={"role": "web"} if metadata is None else dict(metadata), faults=faults, actions=actions,
            console_tokens=0 if shelved else console_tokens, pci_devices=0 if deleted else pci_devices,
            shelved=shelved, deleted=deleted, build_request=cell0 if build_request is None else build_request,
            launched_on=source or placed, new_flavor=new_flavor, migration=migration,
            migration_status=migration_status, source=source, dest=dest, uuid=uuid,
        )  # fmt: skip
        writer = nova.InstanceWriter(ctx, spec)
        inst, ports, extra = writer.write()
        ctx.instances[inst.uuid] = inst
        kind = "schedule" if cell0 else ("migrate" if migration else "build")
        activity.faults(ctx, inst, writer.role, faults, kind)
        plan = activity.action_plan(
            actions, cell0=cell0, migration=migration, shelved=shelved, deleted=deleted
        )
        failed = {"create-cell0"} if cell0 else set()
        if migration and migration_status == "error":
            failed.add(activity.MIGRATION_ACTION[migration])
        elif vm_state == "error" and not cell0:
            failed.add("create")
        activity.actions(ctx, inst, writer.role, plan, failed=failed, source=source, dest=dest)
        mig_uuid = None
        if migration and source and dest:
            mig_id, mig_uuid, mig_row = activity.migration(
                ctx, inst, writer.role, migration_type=migration, status=migration_status, source=source,
                dest=dest, old_flavor_id=ctx.flavor(flavor)[0],
                new_flavor_id=ctx.flavor(new_flavor or flavor)[0],
            )  # fmt: skip
            inst.children.append(("migrations", mig_row))
            if migration_status not in ("completed", "confirmed", "done"):
                extra["migration_context"] = shapes.migration_context(inst.uuid, mig_id)
        if not (cell0 or shelved or deleted) and placed is not None:
            self._allocate(inst, flavor, new_flavor, placed, source, dest, mig_uuid)
        vol_ids = [self._new_volume(project_id=project.id, protocol=volume_protocol, targets=[inst]).id
                   for _ in range(volumes)]  # fmt: skip
        if deleted:
            nova.soft_delete(inst, writer.instance_row, inst.created_at + dt.timedelta(days=5))
        inst.children.clear()  # only needed until here; keeping them would pin every row in memory
        return SeededInstance(
            uuid=inst.uuid, id=inst.id, host=placed.public.host if placed and not shelved else None,
            node=placed.public.node if placed and not shelved else None, project_id=project.id,
            user_id=user.id,
            cell=cell, ports=tuple(ports), volumes=tuple(vol_ids), migration=mig_uuid, flavor=inst.flavor,
            vm_state="deleted" if deleted else vm_state, task_state=None if deleted else task_state,
            display_name=name, dest_host=dest.public.host if dest else None,
            compute_node_id=placed.public.compute_node_id if placed and not shelved else None,
            shelved=shelved, deleted=deleted, tags=() if deleted else tuple(tags),
            pci_addresses=tuple(writer.pci_addresses),
            console_tokens=0 if (shelved or deleted or placed is None) else console_tokens,
        )  # fmt: skip

    def _allocate(self, inst: InstanceState, flavor: str, new_flavor: str | None,
                  placed: HostState, source: HostState | None, dest: HostState | None,
                  mig_uuid: str | None) -> None:  # fmt: skip
        """Placement allocations and compute-node usage (nova's move swap when migrating)."""
        old = FLAVORS[flavor]
        if mig_uuid and source and dest:
            self._claim(mig_uuid, inst, source, old, "MIGRATION")
            self._claim(inst.uuid, inst, dest, FLAVORS[new_flavor or flavor], "INSTANCE")
        else:
            self._claim(inst.uuid, inst, placed, old, "INSTANCE")
        placed.running_vms += 1
        placed.project_counts[inst.project.id] = placed.project_counts.get(inst.project.id, 0) + 1

    def _claim(self, consumer: str, inst: InstanceState, host: HostState, spec: dict, ctype: str) -> None:
        self.placement.allocate(
            consumer, inst.project, inst.user, host, vcpus=spec["vcpus"], memory_mb=spec["memory_mb"],
            disk_gb=spec["root_gb"], when=inst.created_at, consumer_type=ctype,
        )  # fmt: skip
        host.used_vcpus += spec["vcpus"]
        host.used_memory_mb += spec["memory_mb"]
        host.used_disk_gb += spec["root_gb"]
        host.dirty = True

    # volumes -------------------------------------------------------------------
    def volume(
        self,
        project_id: str | None = None,
        size: int = 10,
        volume_type: str | None = None,
        status: str = "available",
        attach_to: SeededInstance | None = None,
        multiattach: bool = False,
        also_attach_to: Sequence[SeededInstance] = (),
        encrypted: bool = False,
        snapshots: int = 0,
        backups: int = 0,
        protocol: str = "iscsi",
        bootable: bool = False,
        metadata: dict[str, str] | None = None,
        use_quota: bool = True,
        *,
        multipath: bool = False,
        display_name: str | None = None,
    ) -> SeededVolume:
        """A Cinder volume (type per protocol unless named: iscsi->lvmdriver-1, rbd->ceph,
        nfs->nfs, fibre_channel->fc-gold; '-luks'/'-multiattach' variants), optionally
        attached (BDM + attachment agreeing), with snapshots and backups."""
        targets = [t for t in (attach_to, *also_attach_to) if t is not None]
        if also_attach_to and not multiattach:
            raise SeedError("also_attach_to needs multiattach=True")
        states = []
        for t in targets:
            if t.uuid not in self.ctx.instances:
                raise SeedError(f"instance {t.uuid} was not seeded by this Seeder")
            states.append(self.ctx.instances[t.uuid])
        if project_id is None and states:
            project_id = states[0].project.id
        return self._new_volume(
            project_id=project_id, size=size, volume_type=volume_type, status=status, targets=states,
            multiattach=multiattach, encrypted=encrypted, snapshots=snapshots, backups=backups,
            protocol=protocol,
            bootable=bootable, metadata=metadata, use_quota=use_quota, multipath=multipath,
            display_name=display_name,
        )  # fmt: skip

    def _new_volume(self, *, project_id: str | None, protocol: str, targets: list[InstanceState],
                    size: int = 10, volume_type: str | None = None, status: str = "available",
                    multiattach: bool = False, encrypted: bool = False, snapshots: int = 0, backups: int = 0,
                    bootable: bool = False, metadata: dict[str, str] | None = None, use_quota: bool = True,
                    multipath: bool = False, display_name: str | None = None) -> SeededVolume:  # fmt: skip
        ctx = self.ctx
        project = ctx.project(project_id)
        user = targets[0].user if targets else ctx.user(project, None)
        vtype = self.cinder.resolve_type(volume_type, protocol, encrypted=encrypted, multiattach=multiattach)
        vol = self.cinder.volume(
            project=project, user=user, size=size, vtype=vtype, status=status, bootable=bootable,
            metadata={} if metadata is None else dict(metadata), use_quota=use_quota, multipath=multipath,
            display_name=display_name or f"vol-{len(self._volumes) + 1}",
        )  # fmt: skip
        self._volumes[vol.row["id"]] = vol
        for inst in targets:
            attach.attach(ctx, self.cinder, vol, inst)
        snap_ids = tuple(self.cinder.snapshot(vol, i) for i in range(snapshots))
        backup_ids = tuple(self.cinder.backup(vol, i) for i in range(backups))
        row = vol.row
        return SeededVolume(
            id=row["id"], project_id=project.id, size=size, volume_type_id=vtype.id,
            volume_type_name=vtype.name, attachments=tuple(vol.attachments), snapshots=snap_ids,
            backups=backup_ids, protocol=protocol, status=row["status"], attach_status=row["attach_status"],
            instance_uuids=tuple(vol.instance_uuids),
            encrypted=encrypted, multiattach=multiattach, bootable=bootable, host=row["host"],
        )  # fmt: skip

    # writing -------------------------------------------------------------------
    def _fold_derived_values(self) -> None:
        """Before a flush: host usage, provider generations, cinder quota usages."""
        hosts.fold_host_values(self.ctx)
        if self.cinder.dirty_projects:
            projects = set(self.cinder.dirty_projects)
            self.cinder.dirty_projects.clear()
            self.ctx.buf.post_insert["cinder"].append(lambda cur: self._sync_quota(cur, projects))

    def _sync_quota(self, cur: pymysql.cursors.Cursor, projects: set[str]) -> int:
        return quota.sync_usages(
            cur,
            projects,
            release=self.release,
            race_preventer=self.ctx.has("cinder", "quota_usages", "race_preventer"),
            when=self.ctx.rand.now(),
        )

    def flush(self, *, background: bool = False) -> int:
        """Write everything pending (one transaction per database); returns the row count.

        `background=True` (bulk path) returns at once and writes in a thread while the
        caller builds more; any later flush, `wait()` or `close()` joins it."""
        written = self.ctx.buf.flush(background=background)
        for h in self.ctx.hosts.values():  # now owned by the writer: later changes via UPDATE
            h.node_row = h.rp_row = None
        return written

    def wait(self) -> None:
        self.ctx.buf.wait()

    def close(self) -> None:
        """Finish any background flush and close the writer's connections."""
        self.ctx.buf.close()

    def __enter__(self) -> Seeder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_cinder_quota_usages(self) -> int:
        """Flush, then recount quota_usages of every project with cinder resources."""
        self.flush()
        conn = self.ctx.buf.connection("cinder")
        with conn.cursor() as cur:
            cur.execute(
                "SELECT project_id FROM volumes UNION SELECT project_id FROM snapshots "
                "UNION SELECT project_id FROM backups UNION SELECT project_id FROM quota_usages"
            )
            projects = {r[0] for r in cur.fetchall() if r[0]}
            conn.begin()
            try:
                touched = self._sync_quota(cur, projects)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return touched

    def bulk_instances(
        self,
        n: int,
        hosts: Sequence[HostArg] | None = None,
        projects: int = 3,
        *,
        chunk: int = 5000,
        vif_types: Sequence[str] = ("ovs",),
    ) -> list[SeededInstance]:
        """Benchmark-scale seeding: `n` active instances over `hosts` (default one host per 40
        instances) and `projects` new projects, flushed every `chunk` instances."""
        host_list: list[ComputeHost | str] = (
            [h for h in hosts if h is not None] if hosts else list(self.hosts_for(n))
        )
        project_ids = [self.project() for _ in range(max(1, projects))]
        return bulk.bulk_instances(
            self.instance,
            self.flush,
            n,
            hosts=host_list,
            project_ids=project_ids,
            chunk=chunk,
            vif_types=vif_types,
        )

    def hosts_for(self, n: int) -> list[ComputeHost]:
        """Enough compute hosts for `n` instances at 40 per host (creating what is missing)."""
        want = max(1, math.ceil(n / 40))
        have = [h.public for h in self.ctx.hosts.values()]
        while len(have) < want:
            have.append(self.compute_host(f"cmp-{len(self.ctx.hosts) + 1:04d}"))
        return have[:want]
