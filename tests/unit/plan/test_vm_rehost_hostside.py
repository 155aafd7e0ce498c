"""What a rehost hands its scripts: the ports to rebind and attachments to refresh
(controller.sh), and the host the failed move left with its VIFs and volume connections
(source-<host>.sh)."""

from __future__ import annotations

from generator.plan.vm_common import VmOptions
from generator.plan.vm_rehost_hostside import (
    after_apply_steps,
    left_host,
    rehost_controller,
    source_cleanup,
)
from tests.unit import world as w

PORT_B = "6f7a8b9c-2d3e-4f40-9b0c-1d2e3f4a5b6c"


def _world(**more):
    cache = w.row("nova", "instance_info_caches", id=1, instance_uuid=w.INSTANCE, deleted=0,
                  network_info=w.network_info(w.PORT, PORT_B, hybrid=True))  # fmt: skip
    rows = {"instance_info_caches": [cache], "block_device_mapping": [w.bdm(1, instance_uuid=w.INSTANCE)]}
    return w.rehost_world(more_cell_rows=rows, **more)


def test_controller_gets_every_port_of_network_info_and_every_attached_volume():
    actions = rehost_controller(_world(), "cmp-02")
    assert (actions.instance_uuid, actions.rehost_host) == (w.INSTANCE, "cmp-02")
    assert actions.rebind_ports == (w.PORT, PORT_B) and actions.refresh_volumes == (w.VOLUME,)
    # a rehost leaves Cinder's rows and the instance's ports alone: nothing to delete or detach
    assert actions.neutron_ports == actions.volumes_to_detach == actions.volumes_to_delete == ()


def test_the_left_host_is_where_nova_points_else_the_moves_other_end():
    facts = _world()
    assert left_host(facts, "cmp-02", None) == "cmp-01"
    # Nova already points at the target (a resize that reached the destination, reverted to it)
    moved = _world(instance=w.instance_row(host="cmp-02", node="cmp-02.example", vm_state="error"))
    mig = w.migration(7, "error", source="cmp-02", dest="cmp-03")
    assert left_host(moved, "cmp-02", mig) == "cmp-03"
    assert left_host(moved, "cmp-02", None) is None
    assert source_cleanup(moved, VmOptions(op="rehost", to_host="cmp-02"), "cmp-02", None) == ()


def test_source_cleanup_carries_the_vifs_and_volume_connections():
    (cleanup,) = source_cleanup(_world(), VmOptions(op="rehost", to_host="cmp-02"), "cmp-02", None)
    assert (cleanup.host, cleanup.move_leftovers, cleanup.volumes_only) == ("cmp-01", True, False)
    assert [v.port_id for v in cleanup.vifs] == [w.PORT, PORT_B]
    assert {v.vif_type for v in cleanup.vifs} == {"ovs_hybrid"}
    assert [(c.volume_id, c.driver) for c in cleanup.volumes] == [(w.VOLUME, "iscsi")]


def test_runbook_words_name_the_scripts_and_the_commands():
    text = " ".join(after_apply_steps(_world(), "cmp-02", "cmp-01"))
    assert f"`openstack port set --host cmp-02 {PORT_B}`" in text
    assert "bash shell/controller.sh --connector connector.json --execute" in text
    assert "on cmp-01, the host the failed move left, `shell/source-*.sh`" in text
    bare = w.rehost_world()
    assert not any("source-" in s or "port set" in s for s in after_apply_steps(bare, "cmp-02", None))
