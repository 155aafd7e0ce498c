"""render/shell.py: the compute-node and controller scripts, every value validated then quoted."""

from __future__ import annotations

import pytest

from generator.errors import TargetProblem
from generator.plan.model import ComputeCleanup, ControllerActions, Vif, VolumeConnection
from generator.render.shell import (
    render_compute_script,
    render_controller_script,
    render_offline_compute_script,
    script_name,
)
from tests.unit import world as w

IDS = {"bundle_id": "20260102T030405Z-test", "fixpack_version": "0.1.0"}


def _vif(port: str = w.PORT, vif_type: str = "ovs_hybrid") -> Vif:
    return Vif(port, f"tap{port[:11]}", vif_type, "br-int", "fa:16:3e:00:00:01")


def _cleanup(**kw) -> ComputeCleanup:
    base = dict(host="cmp-01", instance_uuid=w.INSTANCE, domain_name="instance-00000007", vifs=(_vif(),))
    base.update(kw)
    return ComputeCleanup(**base)  # type: ignore[arg-type]


def test_compute_script_is_named_after_its_validated_host():
    assert script_name("cmp-01.example") == "compute-cmp-01.sh"
    assert script_name("compute-1.example.org") == "compute-1.sh"  # no doubled word
    assert script_name("cmp-01.a", ["cmp-01.a", "cmp-01.b"]) == "compute-cmp-01.a.sh"  # short names clash
    with pytest.raises(TargetProblem):
        script_name("cmp-01; rm -rf /")


def test_compute_script_passes_the_hybrid_plug_bridge_and_veth_names_of_the_port():
    text = render_compute_script(_cleanup(), **IDS)
    p = w.PORT[:11]
    assert f"{w.PORT} tap{p} qbr{p} qvb{p} qvo{p} br-int" in text


def test_compute_script_names_instance_domain_and_host_it_checks_before_acting():
    text = render_compute_script(_cleanup(), **IDS)
    assert w.INSTANCE in text and "instance-00000007" in text and "cmp-01" in text


def test_compute_script_passes_iscsi_targets_as_iqn_portal_lun_words():
    conn = VolumeConnection(w.OTHER_VOLUME, "iscsi", iscsi_targets=((w.IQN, "192.0.2.10:3260", 1),))
    text = render_compute_script(_cleanup(volumes=(conn,)), **IDS)
    assert f"{w.OTHER_VOLUME} {w.IQN} 192.0.2.10:3260 1" in text


def test_a_volume_only_cleanup_naming_vifs_is_refused():
    with pytest.raises(TargetProblem, match="volume-only compute cleanup cannot name VIFs"):
        render_compute_script(_cleanup(volumes_only=True), **IDS)


def test_a_port_listed_twice_is_refused():
    with pytest.raises(TargetProblem, match="listed twice"):
        render_compute_script(_cleanup(vifs=(_vif(), _vif())), **IDS)


def test_a_hostile_domain_name_is_refused_not_quoted():
    with pytest.raises(TargetProblem):
        render_compute_script(_cleanup(domain_name="$(reboot)"), **IDS)


def test_controller_script_deletes_ports_and_only_shows_preserved_ones():
    actions = ControllerActions(neutron_ports=(w.PORT,), preserved_ports=(w.PORT2,), instance_uuid=w.INSTANCE)
    text = render_controller_script(actions, release=w.RELEASE, **IDS)
    assert f"readonly PORTS=({w.PORT})" in text
    assert f"readonly PRESERVED_PORTS=({w.PORT2})" in text
    assert w.PORT2 not in text.split("readonly PORTS=")[1].splitlines()[0]


def test_controller_script_naming_ports_without_an_instance_is_refused():
    with pytest.raises(TargetProblem, match="no instance UUID"):
        render_controller_script(ControllerActions(neutron_ports=(w.PORT,)), release=w.RELEASE, **IDS)


def test_controller_script_refuses_a_port_both_deleted_and_preserved():
    actions = ControllerActions(neutron_ports=(w.PORT,), preserved_ports=(w.PORT,), instance_uuid=w.INSTANCE)
    with pytest.raises(TargetProblem, match="listed twice"):
        render_controller_script(actions, release=w.RELEASE, **IDS)


def test_offline_compute_script_takes_the_instance_and_discovers_the_rest():
    text = render_offline_compute_script(w.INSTANCE, **IDS)
    assert text.startswith("#!") and w.INSTANCE in text
    assert "--iscsi" in text


def test_scripts_refuse_a_bundle_id_that_is_not_a_plain_token():
    with pytest.raises(TargetProblem):
        render_offline_compute_script(w.INSTANCE, bundle_id="x; reboot", fixpack_version="0.1.0")
