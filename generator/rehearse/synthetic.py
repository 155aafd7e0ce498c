"""Synthetic targets for rehearsing offline VM bundles.

An offline bundle recorded no rows: it finds them when it runs. To rehearse one
anyway, the scratch databases are given a stuck instance *with the bundle's
UUID*, created by fixpack's seeding library the way Nova would have written it
(every related row in the cell, nova_api and placement; a volume, a PCI
device, VIFs; a failed resize for a rehost), plus bystander instances that the
bundle must not touch. The rehearsal then proves the SQL itself: preconditions,
apply, re-run, capture → rollback, identical tables. The report says the rows
were synthetic, not the operator's.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable

from generator.rehearse.loading import ScratchDatabases
from generator.review.bundle import Bundle
from generator.scratch.deployment import Deployment, admin_connection, map_cells
from generator.scratch.loader import load_release
from generator.seed import Seeder

ALL_ROLES = {
    "nova_api": "nova_api",
    "nova": "nova",
    "nova_cell0": "nova",
    "placement": "placement",
    "cinder": "cinder",
}


def can_synthesize(bundle: Bundle) -> bool:
    return bundle.mode == "offline" and bundle.manifest.get("target", {}).get("kind") == "vm"


def synthetic_vm_targets(bundle: Bundle) -> Callable[[ScratchDatabases], None]:
    """A `prepare` hook for `Rehearsal`: seed the bundle's instances into its scratch databases."""
    manifest = bundle.manifest
    release = manifest["release"]
    op = manifest["target"]["op"]
    uuids = list(manifest["target"]["ids"])
    options = manifest.get("options", {})

    def prepare(scratch: ScratchDatabases) -> None:
        some = next(iter(scratch.names.values()))
        tag = some.rsplit("_", 1)[0] if "_" in some else some
        conn = admin_connection(scratch.server, None)
        try:
            for role, kind in ALL_ROLES.items():
                if role not in scratch.names:  # databases the bundle does not touch, for the seeder
                    scratch.names[role] = f"{tag}_x{role}"[:64]
                    load_release(conn, scratch.names[role], release, kind)
                    from generator.catalog import catalog_snapshot

                    scratch.schemas[role] = catalog_snapshot(release, kind)
        finally:
            conn.close()
        dep = Deployment(
            server=scratch.server, release=release, names=dict(scratch.names), cell1_uuid=str(uuidlib.uuid4())
        )
        map_cells(dep)
        seeder = Seeder(dep, seed=7)
        home = seeder.compute_host("cmp-01")
        if op == "rehost" and options.get("to_host"):
            seeder.compute_host(options["to_host"], hypervisor_hostname=options.get("to_node"))
        for n in range(3):
            seeder.instance(host=home, display_name=f"bystander-{n}")
        for target in uuids:
            seeder.instance(
                host=home,
                uuid=target,
                vm_state="error",
                task_state=None if op == "rehost" else "deleting",
                power_state=4,
                volumes=1,
                pci_devices=1,
                vif_types=("ovs_hybrid", "ovs"),
                migration="resize" if op == "rehost" else None,
                display_name="rehearsal-target",
            )
        seeder.flush()
        seeder.close()
        dep.close()

    return prepare
