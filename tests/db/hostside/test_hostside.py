"""Validators and the network_info / connection_info parsers.

The databases are input: every value that reaches a shell script must have the
exact shape expected for it, and anything else stops generation with a
TargetProblem that names the field and shows the value.
"""

from __future__ import annotations

import json

import pytest

from generator.errors import TargetProblem
from generator.hostside import parse_connection_info, parse_network_info, validate
from generator.plan.model import ComputeCleanup, ControllerActions, Vif, VolumeConnection
from generator.render.shell import render_compute_script, render_controller_script

INSTANCE = "0a1b2c3d-0000-4000-8000-00112233aabb"
VOLUME = "5e6f7a8b-1111-4222-8333-444455556666"
NET = "7f8e9d0c-aaaa-4bbb-8ccc-dddd00001111"
P1 = "f6e315dd-d984-4ff1-9705-b778cd0153aa"
P2 = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P3 = "b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P4 = "c1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
P5 = "d1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
IQN = "iqn.2010-10.org.openstack:volume-5e6f7a8b"


def vif(port: str, vif_type: str, **extra: object) -> dict[str, object]:
    """A VIF the way nova's network model serialises it."""
    base: dict[str, object] = {
        "id": port,
        "address": "fa:16:3e:12:34:56",
        "devname": f"tap{port[:11]}",
        "type": vif_type,
        "vnic_type": "normal",
        "ovs_interfaceid": port,
        "active": True,
        "preserve_on_delete": False,
        "details": {"port_filter": True, "connectivity": "l2"},
        "network": {"id": NET, "bridge": "br-int", "label": "private", "subnets": [], "meta": {"mtu": 1450}},
        "profile": {},
        "qbh_params": None,
        "qbg_params": None,
        "meta": {},
    }
    base.update(extra)
    return base


# ---- validators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "good", "normalised"),
    [
        (validate.uuid, INSTANCE.upper(), INSTANCE),
        (validate.ifname, "tapf6e315dd-d9", "tapf6e315dd-d9"),
        (validate.ifname, "br-int", "br-int"),
        (validate.hostname, "compute-1.example.org.", "compute-1.example.org"),
        (validate.mac, "FA:16:3E:00:11:22", "fa:16:3e:00:11:22"),
        (validate.iqn, IQN, IQN),
        (validate.iqn, "iqn.1992-08.com.netapp:sn.4f6a:vs.3", "iqn.1992-08.com.netapp:sn.4f6a:vs.3"),
        (validate.iqn, "eui.02004567A425678D", "eui.02004567A425678D"),
        (validate.iqn, "naa.52004567BA64678D", "naa.52004567BA64678D"),
        (validate.portal, "10.0.0.5:3260", "10.0.0.5:3260"),
        (validate.portal, "[2001:db8::5]:3260", "[2001:db8::5]:3260"),
        (validate.portal, "storage-a.example.org:3260", "storage-a.example.org:3260"),
        (validate.lun, 16383, 16383),
        (validate.lun, "7", 7),
        (validate.wwn, "500A0981891B8DC5", "500a0981891b8dc5"),
        (validate.wwn, "0x500a0981891b8dc5", "500a0981891b8dc5"),
        (validate.wwn, "50:0a:09:81:89:1b:8d:c5", "500a0981891b8dc5"),
        (validate.nfs_export, "nfs1.example.org:/srv/cinder/vols", "nfs1.example.org:/srv/cinder/vols"),
        (validate.nfs_export, "[2001:db8::9]:/export/", "[2001:db8::9]:/export"),
        (validate.safe_path, "/var/lib/nova/instances/", "/var/lib/nova/instances"),
        (validate.domain_name, "instance-0000002a", "instance-0000002a"),
    ],
)
def test_validators_accept_and_normalise(check, good, normalised) -> None:
    assert check(good) == normalised


@pytest.mark.parametrize(
    ("check", "bad"),
    [
        (validate.uuid, "0a1b2c3d00004000800000112233aabb"),
        (validate.uuid, f"{INSTANCE}`id`"),
        (validate.uuid, None),
        (validate.ifname, "tap1;rm -rf /"),
        (validate.ifname, "-tapf6e315dd"),
        (validate.ifname, "tapf6e315dd-d984"),  # 16 characters
        (validate.ifname, "tap 1"),
        (validate.ifname, ".."),
        (validate.hostname, "compute 1"),
        (validate.hostname, "compute_1"),
        (validate.hostname, "-compute"),
        (validate.hostname, "a" * 64),
        (validate.mac, "fa:16:3e:00:11"),
        (validate.iqn, "iqn.2010-10.org.openstack:$(reboot)"),
        (validate.iqn, "iqn.2010-13.org.openstack:vol"),
        (validate.iqn, "iqn.2010-10.org.openstack:vol name"),
        (validate.iqn, "eui.0200"),
        (validate.portal, "1.2.3.4:3260;id"),
        (validate.portal, "1.2.3.4"),
        (validate.portal, "1.2.3.400:3260"),
        (validate.portal, "1.2.3.4:99999"),
        (validate.portal, "2001:db8::5:3260"),
        (validate.portal, "[fe80::1%eth0]:3260"),
        (validate.portal, "$(id):3260"),
        (validate.lun, -1),
        (validate.lun, 16384),
        (validate.lun, True),
        (validate.lun, "1;id"),
        (validate.wwn, "500a0981891b8dc"),
        (validate.wwn, "500a0981891b8dcz"),
        (validate.nfs_export, "nfs1:/srv/../etc"),
        (validate.nfs_export, "nfs1:srv"),
        (validate.nfs_export, "nfs 1:/srv"),
        (validate.safe_path, "../../etc"),
        (validate.safe_path, "/var/lib/nova/instances/../../etc"),
        (validate.safe_path, "/var/lib/nova/$(id)"),
        (validate.safe_path, "/var/lib/-rf"),
        (validate.safe_path, "/"),
        (validate.safe_path, "/var//lib"),
        (validate.domain_name, "-instance"),
        (validate.domain_name, "instance 1"),
    ],
)
def test_validators_reject(check, bad) -> None:
    with pytest.raises(TargetProblem):
        check(bad)


def test_rejection_names_the_field_and_truncates_the_value() -> None:
    with pytest.raises(TargetProblem) as caught:
        validate.ifname("tap1;" + "x" * 500, "network_info[0].devname")
    message = str(caught.value)
    assert "network_info[0].devname" in message
    assert "'tap1;xxx" in message
    assert len(message) < 200
    assert "\n" not in message


# ---- network_info -----------------------------------------------------------------------


def test_network_info_with_every_kind_of_vif() -> None:
    text = json.dumps(
        [
            vif(P1, "ovs", details={"ovs_hybrid_plug": True, "port_filter": True, "bridge_name": "br-int"}),
            vif(P2, "ovs", details={"ovs_hybrid_plug": False, "port_filter": True}, devname=None),
            vif(P3, "bridge", network={"id": NET, "bridge": None, "subnets": []}),
            vif(
                P4,
                "vhostuser",
                details={
                    "vhostuser_ovs_plug": True,
                    "vhostuser_mode": "server",
                    "vhostuser_socket": f"/var/run/openvswitch/vhu{P4[:11]}",
                },
            ),
            vif(P5, "hw_veb", vnic_type="direct", details={"vlan": "100"}),
        ]
    )
    vifs = parse_network_info(text, INSTANCE)
    assert (
        vifs
        == (
            Vif(P1, "tapf6e315dd-d9", "ovs_hybrid", "br-int", "fa:16:3e:12:34:56"),
            Vif(P2, "tapa1b2c3d4-e5", "ovs", "br-int", "fa:16:3e:12:34:56"),  # devname defaulted
            Vif(P3, "tapb1b2c3d4-e5", "bridge", f"brq{NET[:11]}", "fa:16:3e:12:34:56"),
            Vif(
                P4,
                "tapc1b2c3d4-e5",
                "vhostuser",
                "br-int",
                "fa:16:3e:12:34:56",
                f"/var/run/openvswitch/vhu{P4[:11]}",
            ),
            Vif(P5, "tapd1b2c3d4-e5", "other", None, "fa:16:3e:12:34:56"),
        )
    )


def test_network_info_bridges_follow_network_and_details() -> None:
    text = json.dumps(
        [
            vif(P1, "ovs", details={"bridge_name": "tbr-1a2b3c4d-5"}, network={"id": NET, "bridge": None}),
            vif(P2, "bridge", network={"id": NET, "bridge": f"brq{NET[:11]}"}, preserve_on_delete=True),
            vif(P3, "ovs", vnic_type="direct", profile={"pci_slot": "0000:81:00.2"}),
            vif(P4, "vhostuser", details={"vhostuser_socket": f"/run/vpp/vhu{P4[:11]}"}),
        ]
    )
    by_port = {v.port_id: v for v in parse_network_info(text, INSTANCE)}
    assert by_port[P1].vif_type == "ovs" and by_port[P1].bridge == "tbr-1a2b3c4d-5"
    assert by_port[P2].bridge == f"brq{NET[:11]}"
    assert by_port[P2].preserve_on_delete and not by_port[P1].preserve_on_delete  # user-made port
    assert by_port[P3].vif_type == "other"  # SR-IOV representor: no tap on the host
    assert by_port[P4].vif_type == "vhostuser" and by_port[P4].bridge is None  # not plugged by OVS


@pytest.mark.parametrize("empty", [None, "", "  ", "[]", "null"])
def test_network_info_empty(empty) -> None:
    assert parse_network_info(empty, INSTANCE) == ()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[{", "not valid JSON"),
        ('{"id": "x"}', "expected a list"),
        (json.dumps([vif(P1, "ovs", devname="tap1;rm -rf /")]), "devname"),
        (json.dumps([vif(P1, "ovs", devname="eth0")]), "a device name of this port"),
        (json.dumps([vif("f6e315dd-`reboot`-4ff1-9705-b778cd0153aa", "ovs")]), ".id"),
        (json.dumps([vif(P1, "ovs", address="fa:16:3e:12:34:56;id")]), ".address"),
        (json.dumps([vif(P1, "ovs", network={"bridge": "br-int; reboot"})]), "bridge"),
        (json.dumps([vif(P1, "ovs", details=["x"])]), ".details"),
        (json.dumps([vif(P4, "vhostuser", details={"vhostuser_socket": "/run/../etc/passwd"})]), "socket"),
        (
            json.dumps([vif(P4, "vhostuser", details={"vhostuser_socket": "/run/openvswitch/db.sock"})]),
            "socket",
        ),
        (json.dumps([vif(P1, "ovs"), vif(P1, "bridge")]), "twice"),
    ],
)
def test_network_info_hostile_or_malformed(text, needle) -> None:
    with pytest.raises(TargetProblem) as caught:
        parse_network_info(text, INSTANCE)
    assert needle in str(caught.value)
    assert INSTANCE in str(caught.value)


# ---- connection_info -------------------------------------------------------------------


def conn(driver: str, **data: object) -> str:
    return json.dumps({"driver_volume_type": driver, "data": data, "serial": VOLUME})


def test_connection_info_iscsi_single_path() -> None:
    text = conn("iscsi", target_iqn=IQN, target_portal="10.0.0.5:3260", target_lun=1, auth_method="CHAP")
    assert parse_connection_info(VOLUME, text) == VolumeConnection(
        VOLUME, "iscsi", iscsi_targets=((IQN, "10.0.0.5:3260", 1),)
    )


def test_connection_info_iscsi_multipath() -> None:
    text = conn(
        "iscsi",
        target_iqn=IQN,
        target_portal="10.0.0.5:3260",
        target_lun=1,
        target_iqns=[IQN, IQN],
        target_portals=["10.0.0.5:3260", "10.0.1.5:3260"],
        target_luns=[1, 1],
        target_discovered=False,
    )
    assert parse_connection_info(VOLUME, text).iscsi_targets == (
        (IQN, "10.0.0.5:3260", 1),
        (IQN, "10.0.1.5:3260", 1),
    )
    # portals only: the single IQN and LUN apply to every portal, as os-brick does
    text = conn("iscsi", target_iqn=IQN, target_lun=2, target_portals=["10.0.0.5:3260", "10.0.1.5:3260"])
    assert parse_connection_info(VOLUME, text).iscsi_targets == (
        (IQN, "10.0.0.5:3260", 2),
        (IQN, "10.0.1.5:3260", 2),
    )


def test_connection_info_other_drivers() -> None:
    assert (
        parse_connection_info(VOLUME, conn("rbd", name="volumes/volume-x", hosts=["10.0.0.1"])).driver
        == "rbd"
    )
    nfs = parse_connection_info(VOLUME, conn("nfs", export="10.0.0.9:/srv/cinder", name="volume-x"))
    assert (nfs.driver, nfs.nfs_export) == ("nfs", "10.0.0.9:/srv/cinder")
    fc = parse_connection_info(
        VOLUME, conn("fibre_channel", target_wwn=["500A0981891B8DC5", "500a0981991b8dc5"], target_lun=3)
    )
    assert fc.fc_targets == (("500a0981891b8dc5", 3), ("500a0981991b8dc5", 3))
    assert fc.fc_wwns == ("500a0981891b8dc5", "500a0981991b8dc5")
    fc = parse_connection_info(VOLUME, conn("fibre_channel", target_wwn="500a0981891b8dc5", target_lun=4))
    assert fc.fc_targets == (("500a0981891b8dc5", 4),)
    assert parse_connection_info(VOLUME, conn("scaleio", scaleIO_volname="x")).driver == "other"
    assert parse_connection_info(VOLUME, None).driver == "other"
    assert parse_connection_info(VOLUME, "{}").driver == "other"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected an object"),
        (
            conn("iscsi", target_iqn="iqn.2010-10.org.openstack:$(reboot)", target_portal="10.0.0.5:3260"),
            "target_iqn",
        ),
        (conn("iscsi", target_iqn=IQN, target_portal="1.2.3.4:3260;id", target_lun=1), "target_portal"),
        (conn("iscsi", target_iqn=IQN, target_portal="10.0.0.5:3260", target_lun="1`id`"), "target_lun"),
        (
            conn(
                "iscsi", target_iqns=[IQN], target_portals=["10.0.0.5:3260", "10.0.1.5:3260"], target_luns=[1]
            ),
            "length",
        ),
        (conn("fibre_channel", target_wwn="500a0981891b8dc5;id", target_lun=1), "WWN"),
        (conn("fibre_channel", target_lun=1), "target_wwn"),
        (conn("nfs", export="10.0.0.9:/srv/../../etc"), "export"),
        (json.dumps({"driver_volume_type": ["iscsi"]}), "driver_volume_type"),
    ],
)
def test_connection_info_hostile_or_malformed(text, needle) -> None:
    with pytest.raises(TargetProblem) as caught:
        parse_connection_info(VOLUME, text)
    assert needle in str(caught.value)


# ---- the renderer re-validates whatever it is given ------------------------------------


@pytest.mark.parametrize(
    "cleanup",
    [
        ComputeCleanup("compute 1", INSTANCE, "instance-00000001"),
        ComputeCleanup("compute-1", INSTANCE, "instance-00000001", instances_path="../../etc"),
        ComputeCleanup("compute-1", INSTANCE, "instance-00000001;reboot"),
        ComputeCleanup("compute-1", f"{INSTANCE}`id`", "instance-00000001"),
        ComputeCleanup("compute-1", INSTANCE, "i-1", vifs=(Vif(P1, "tap1;rm -rf /", "ovs", "br-int", None),)),
        ComputeCleanup("compute-1", INSTANCE, "i-1", vifs=(Vif(P1, "eth0", "bridge", None, None),)),
        ComputeCleanup("compute-1", INSTANCE, "i-1", vifs=(Vif("`reboot`", "tap1", "other", None, None),)),
        ComputeCleanup(
            "compute-1",
            INSTANCE,
            "i-1",
            volumes=(VolumeConnection(VOLUME, "iscsi", ((IQN, "10.0.0.5:3260;id", 1),)),),
        ),
        ComputeCleanup(
            "compute-1",
            INSTANCE,
            "i-1",
            volumes=(VolumeConnection(VOLUME, "fibre_channel", fc_wwns=("500a0981891b8dc5",)),),
        ),
    ],
)
def test_render_compute_rejects_hostile_plans(cleanup) -> None:
    with pytest.raises(TargetProblem):
        render_compute_script(cleanup, bundle_id="b1", fixpack_version="0.1.0")


def test_render_controller_rejects_hostile_values() -> None:
    with pytest.raises(TargetProblem):
        render_controller_script(
            ControllerActions(neutron_ports=("`reboot`",), instance_uuid=INSTANCE),
            bundle_id="b1",
            fixpack_version="0.1.0",
            release="2024.1",
        )
    with pytest.raises(TargetProblem):
        render_controller_script(ControllerActions(), bundle_id="b1;id", fixpack_version="0.1.0", release="x")
    with pytest.raises(TargetProblem):
        render_controller_script(
            ControllerActions(neutron_ports=(P1,)), bundle_id="b1", fixpack_version="0.1.0", release="2024.1"
        )
    with pytest.raises(TargetProblem, match="listed twice"):
        render_controller_script(
            ControllerActions(neutron_ports=(P1,), preserved_ports=(P1,), instance_uuid=INSTANCE),
            bundle_id="b1",
            fixpack_version="0.1.0",
            release="2024.1",
        )
