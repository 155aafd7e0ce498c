"""What a rehost leaves outside the databases, as scripts rather than advice.

The SQL points Nova at the target, but Neutron keeps the ports' binding:host_id on the old host,
the volume attachments keep the old host's connector in connection_info (a hard reboot does not
fix that: Nova's supported fix is `nova-manage volume_attachment refresh` with a connector read
on the target host), and the host the failed move left still has the `<uuid>_resize`
directory, VIF plumbing and iSCSI sessions. `controller.sh` rebinds the ports and runs (or
prescribes) the refresh; `source-<host>.sh` removes the leftovers under the compute script's
safety rules.
"""

from __future__ import annotations

from generator.domain import nova
from generator.facts.instance import InstanceFacts
from generator.hostside.connection_info import parse_connection_info
from generator.hostside.network_info import parse_network_info
from generator.ops.rows import Row
from generator.plan.model import ComputeCleanup, ControllerActions
from generator.plan.vm_common import VmOptions
from generator.quoting import shell_arg


def _live(facts: InstanceFacts, table: str) -> list[Row]:
    return [r for r in facts.cell.rows(table) if r.get("deleted") == 0]


def _port_ids(facts: InstanceFacts) -> list[str]:
    caches = _live(facts, "instance_info_caches")
    return [v.port_id for v in parse_network_info(caches[0]["network_info"] if caches else None, facts.uuid)]


def _volume_ids(facts: InstanceFacts) -> list[str]:
    return sorted(
        {
            r["volume_id"]
            for r in _live(facts, "block_device_mapping")
            if r.get("destination_type") == "volume" and r.get("volume_id")
        }
    )


def left_host(facts: InstanceFacts, target_host: str, migration: Row | None) -> str | None:
    """The host the failed move left the instance's leftovers on: where Nova points now when that
    is not the target, else the other end of the move the rehost ends; None when there is none."""
    host = facts.instance["host"]
    if host and host != target_host:
        return str(host)
    if migration is not None:
        for end in (migration.get("source_compute"), migration.get("dest_compute")):
            if end and end != target_host:
                return str(end)
    return None


def rehost_controller(facts: InstanceFacts, target_host: str) -> ControllerActions:
    """Port rebinds and attachment refreshes for `controller.sh`, run after the apply."""
    return ControllerActions(
        instance_uuid=facts.uuid,
        rehost_host=target_host,
        rebind_ports=tuple(_port_ids(facts)),
        refresh_volumes=tuple(_volume_ids(facts)),
    )


def source_cleanup(
    facts: InstanceFacts, options: VmOptions, target_host: str, migration: Row | None
) -> tuple[ComputeCleanup, ...]:
    """`source-<host>.sh`: the leftovers of the failed move on the host the instance left."""
    host = left_host(facts, target_host, migration)
    if host is None:
        return ()
    caches = _live(facts, "instance_info_caches")
    vifs = parse_network_info(caches[0]["network_info"] if caches else None, facts.uuid)
    volumes = tuple(
        parse_connection_info(bdm["volume_id"], bdm["connection_info"])
        for bdm in _live(facts, "block_device_mapping")
        if bdm["volume_id"] and bdm["connection_info"]
    )
    return (
        ComputeCleanup(
            host=host,
            instance_uuid=facts.uuid,
            domain_name=nova.domain_name(facts.instance, options.instance_name_template),
            vifs=vifs,
            volumes=volumes,
            instances_path=options.instances_path,
            move_leftovers=True,
        ),
    )


def after_apply_steps(facts: InstanceFacts, host: str, left: str | None) -> list[str]:
    """The runbook's words for what the scripts do after the apply, and what stays manual."""
    u = shell_arg(facts.uuid)
    steps = []
    ports = _port_ids(facts)
    if ports:
        steps.append(
            "after the apply, `shell/controller.sh` rebinds the instance's Neutron ports to the target "
            "host (binding:host_id still names the old one), each only if it is still the instance's and "
            "bound elsewhere: "
            + "; ".join(f"`openstack port set --host {shell_arg(host)} {shell_arg(p)}`" for p in ports)
        )
    volumes = _volume_ids(facts)
    if volumes:
        steps.append(
            "after the apply, refresh the volume attachments (connection_info keeps the old host's "
            "connector; a hard reboot does not fix it), as Nova's docs prescribe: "
            f"`openstack server stop {u}`; on {shell_arg(host)} `nova-manage volume_attachment get_connector "
            "> connector.json`, copied to the controller; then "
            + "; ".join(
                f"`nova-manage volume_attachment refresh {u} {shell_arg(v)} connector.json`" for v in volumes
            )
            + " — `bash shell/controller.sh --connector connector.json --execute` checks and runs these "
            f"(without --connector it prints them); then `openstack server start {u}`"
        )
    if left:
        steps.append(
            f"on {shell_arg(left)}, the host the failed move left, `shell/source-*.sh` removes the "
            f"`{facts.uuid}_resize` directory, the VIFs and the iSCSI sessions no other domain uses"
        )
    steps.append(
        f"then start the guest under Nova (`openstack server start {u}` or "
        f"`openstack server reboot --hard {u}`) so nova-compute on the target host plugs the VIFs"
    )
    return steps
