"""The stand-ins (tests/standins) disagree with a script where the real programs do.

The stand-in tests are only meaningful while the stand-ins answer as libvirt, iproute2 and
open-iscsi do. Each step below runs on a real compute node (tests/realhost.py) and on the
stand-ins with the same host state, in order, and must succeed or fail — with open-iscsi's
exit code 21 for "nothing to do" — the same way on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.db.render.test_realhost_compute import HOST, LEFTOVER
from tests.realhost import make_node, realhost_packages  # noqa: F401 (fixtures)
from tests.realhost_layout import lay_out
from tests.shell_fixtures.fakehost import FakeHost

pytestmark = pytest.mark.realhost

TAP, QBR, QVB, QVO = LEFTOVER.ports[0].devices
PATH = LEFTOVER.volumes[0]
NODE = ("iscsiadm", "-m", "node", "-T", PATH.iqn, "-p", PATH.portal)
UUID, NAME = LEFTOVER.uuid, LEFTOVER.domain
# (command, expected exit status: 0, 21, or None for "fails")
STEPS: list[tuple[tuple[str, ...], int | None]] = [
    (("virsh", "domuuid", NAME), 0),
    (("virsh", "domuuid", UUID), None),  # by name or id only
    (("virsh", "domname", UUID), 0),
    (("virsh", "domname", NAME), None),  # by UUID or id only
    (("virsh", "dominfo", UUID), 0),
    (("ip", "tuntap", "del", "dev", TAP, "mode", "tap"), None),  # QEMU holds the tap
    (("ip", "-o", "link", "show", TAP), 0),
    ((*NODE, "--logout"), 21),  # no session: nothing to log out of
    (("iscsiadm", "-m", "session"), 21),
    (("virsh", "destroy", UUID), 0),
    (("ip", "-o", "link", "show", TAP), None),  # libvirt took the tap with the domain
    (("virsh", "undefine", UUID), None),  # a UEFI guest: NVRAM needs --nvram
    (("ip", "link", "delete", QVB), 0),
    (("ip", "-o", "link", "show", QVO), None),  # the veth peer went with it
    (("ovs-vsctl", "port-to-br", QVO), 0),  # ...but not its OVS record
    (("ovs-vsctl", "--if-exists", "del-port", "br-int", QVO), 0),
    (("ovs-vsctl", "port-to-br", QVO), None),
    (("ovs-vsctl", "--if-exists", "del-port", "br-int", QVO), 0),
    ((*NODE, "--op", "update", "-n", "node.startup", "-v", "manual"), 0),
    ((*NODE, "--op", "delete"), 0),
    ((*NODE, "--op", "delete"), 21),  # no record left
    (NODE, 21),
    (("virsh", "undefine", "--nvram", UUID), 0),
    (("virsh", "dominfo", UUID), None),
]


def fake_leftover(host: FakeHost) -> None:
    host.domain(NAME, UUID, "running", ifaces=[TAP])
    host.domain_xml(NAME, f"<domain><name>{NAME}</name><os><nvram>{LEFTOVER.nvram}</nvram></os></domain>\n")
    host.link(TAP, master=QBR)
    host.link(QBR)
    host.link(QVB, master=QBR, peer=QVO)
    host.link(QVO, peer=QVB)
    host.ovs_port(QVO, iface_id=LEFTOVER.ports[0].id, vm_uuid=UUID)
    host.iscsi_node(PATH.iqn, PATH.portal)


def outcome(returncode: int) -> int | None:
    return returncode if returncode in (0, 21) else None


def test_standins_answer_as_the_real_programs(make_node, tmp_path: Path) -> None:  # noqa: F811
    node = make_node(HOST)
    lay_out(node, LEFTOVER)
    fake = FakeHost(tmp_path / "fake")
    fake_leftover(fake)
    for command, expected in STEPS:
        real = node.run(*command, check=False)
        stand_in = fake.run(fake.bin / command[0], *command[1:])
        assert outcome(real.returncode) == expected, f"real {command}: {real.returncode} {real.output}"
        assert outcome(stand_in.returncode) == expected, (
            f"stand-in {command}: {stand_in.returncode} {stand_in.stdout}{stand_in.stderr}"
        )
