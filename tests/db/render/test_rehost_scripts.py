"""The rehost's scripts, run for real against stand-ins: controller.sh rebinds the ports and
refreshes the volume attachments (issue 11), source-<host>.sh removes what the failed move
left on the host the instance no longer runs on.

As in tests/db/render/test_shell_scripts.py, PATH holds only the stand-ins (tests/standins), which record
every call and keep the simulated cloud and host in files; what is asserted is what the scripts
did: nothing in a dry run, the right calls with --execute, nothing the second time, and refusal
where acting would be unsafe (a wrong connector, a domain still running on the source).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from generator.errors import TargetProblem
from generator.plan.model import ControllerActions
from generator.render.shell import render_compute_script, render_controller_script, script_name
from tests.shell_fixtures.fakehost import FakeHost, destructive, write_script
from tests.shell_fixtures.scenarios import (
    BUNDLE,
    CREDENTIALS,
    DOMAIN,
    INSTANCE,
    IQN,
    OTHER_INSTANCE,
    P_HYBRID,
    P_OVS,
    PORTAL_A,
    V_ISCSI,
    V_RBD,
    cleanup,
    instance_dirs,
    iscsi_steps,
    shellcheck,
    tap,
)

TARGET = "compute-2"
OLD = "compute-1"
X = P_HYBRID[:11]
ACTIONS = ControllerActions(
    instance_uuid=INSTANCE,
    rehost_host=TARGET,
    rebind_ports=(P_OVS, P_HYBRID),
    refresh_volumes=(V_ISCSI, V_RBD),
)


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path)


def controller(h: FakeHost, actions: ControllerActions = ACTIONS) -> Path:
    text = render_controller_script(actions, bundle_id=BUNDLE, fixpack_version="0.1.0", release="2024.1")
    return write_script(h.root, "controller.sh", text)


def cloud(h: FakeHost, *, status: str = "ACTIVE") -> None:
    """Both ports the instance's, bound to the old host; both attachments carry its connector."""
    for port in (P_OVS, P_HYBRID):
        (h.state / "openstack/port" / port).write_text(INSTANCE + "\n")
        (h.state / "openstack/port" / f"{port}.binding_host_id").write_text(OLD + "\n")
    (h.state / "openstack/volume").mkdir()
    (h.state / "openstack/server").mkdir()
    (h.state / "openstack/server" / INSTANCE).write_text(status + "\n")
    for volume in (V_ISCSI, V_RBD):
        (h.state / "openstack/volume" / volume).write_text("in-use\n")
        attachments = {"attachments": [{"server_id": INSTANCE, "host_name": OLD, "volume_id": volume}]}
        (h.state / "openstack/volume" / f"{volume}.attachments").write_text(json.dumps(attachments) + "\n")


def connector(h: FakeHost, host_name: str = TARGET) -> Path:
    path = h.root / "connector.json"
    path.write_text(
        json.dumps({"platform": "x86_64", "host": host_name, "initiator": "iqn.1994-05.com.redhat:t"})
    )
    return path


def bound_host(h: FakeHost, port: str) -> str:
    return (h.state / "openstack/port" / f"{port}.binding_host_id").read_text().strip()


def attached_host(h: FakeHost, volume: str) -> str:
    doc = json.loads((h.state / "openstack/volume" / f"{volume}.attachments").read_text())
    return doc["attachments"][0]["host_name"]


# ---- controller.sh -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions",
    [
        ACTIONS,
        dataclasses.replace(ACTIONS, refresh_volumes=()),
        dataclasses.replace(ACTIONS, rebind_ports=()),
        dataclasses.replace(ACTIONS, rebind_ports=(), refresh_volumes=()),
    ],
    ids=["ports-and-volumes", "ports", "volumes", "nothing"],
)
def test_rehost_controller_passes_shellcheck(host: FakeHost, actions: ControllerActions) -> None:
    result = shellcheck(controller(host, actions))
    assert result.returncode == 0, result.stdout + result.stderr


def test_controller_rebinds_ports_and_prints_the_refresh_without_a_connector(host: FakeHost) -> None:
    cloud(host)
    script = controller(host)

    dry = host.run(script, env=CREDENTIALS)
    assert destructive(dry.calls) == [], dry.output
    assert f"DRY-RUN: openstack port set --host {TARGET} {P_OVS}" in dry.stdout
    assert bound_host(host, P_OVS) == OLD

    run = host.run(script, "--execute", env=CREDENTIALS)
    # the ports are done; the refresh needs a connector read on the target: exactly what to run
    assert run.returncode == 4, run.output
    assert destructive(run.calls) == [
        f"openstack port set --host {TARGET} {P_OVS}",
        f"openstack port set --host {TARGET} {P_HYBRID}",
    ]
    assert bound_host(host, P_OVS) == bound_host(host, P_HYBRID) == TARGET
    assert f"HINT: on {TARGET}: nova-manage volume_attachment get_connector > connector.json" in run.stdout
    for volume in (V_ISCSI, V_RBD):
        assert f"HINT: nova-manage volume_attachment refresh {INSTANCE} {volume} connector.json" in run.stdout
    assert f"HINT: openstack server stop {INSTANCE}" in run.stdout

    again = host.run(script, "--execute", env=CREDENTIALS)
    assert destructive(again.calls) == [], again.output
    assert f"port {P_OVS} is already bound to {TARGET}" in again.stdout


def test_controller_refreshes_attachments_once_the_instance_is_stopped(host: FakeHost) -> None:
    cloud(host)
    script = controller(host)
    path = str(connector(host))

    running = host.run(script, "--connector", path, "--execute", env=CREDENTIALS)
    assert running.returncode == 4, running.output
    assert f"instance {INSTANCE} is ACTIVE" in running.stdout
    assert not any(call.startswith("nova-manage") for call in running.calls)

    (host.state / "openstack/server" / INSTANCE).write_text("SHUTOFF\n")
    dry = host.run(script, "--connector", path, env=CREDENTIALS)
    assert dry.returncode == 0, dry.output
    assert destructive(dry.calls) == []
    assert f"DRY-RUN: nova-manage volume_attachment refresh {INSTANCE} {V_ISCSI} {path}" in dry.stdout

    run = host.run(script, "--connector", path, "--execute", env=CREDENTIALS)
    assert run.returncode == 0, run.output
    assert destructive(run.calls) == [
        f"nova-manage volume_attachment refresh {INSTANCE} {V_ISCSI} {path}",
        f"nova-manage volume_attachment refresh {INSTANCE} {V_RBD} {path}",
    ]
    assert attached_host(host, V_ISCSI) == attached_host(host, V_RBD) == TARGET

    again = host.run(script, "--connector", path, "--execute", env=CREDENTIALS)
    assert again.returncode == 0, again.output
    assert destructive(again.calls) == []
    assert "Nothing to do: everything is already clean." in again.stdout


def test_controller_refuses_another_hosts_connector(host: FakeHost) -> None:
    cloud(host, status="SHUTOFF")
    result = host.run(
        controller(host), "--connector", str(connector(host, OLD)), "--execute", env=CREDENTIALS
    )
    assert result.returncode == 3, result.output
    assert f"is the connector of host '{OLD}', not of the target {TARGET}" in result.stdout
    assert destructive(result.calls) == []


def test_controller_leaves_a_port_of_another_device_and_reads_no_nova_manage(host: FakeHost) -> None:
    cloud(host, status="SHUTOFF")
    (host.state / "openstack/port" / P_HYBRID).write_text(OTHER_INSTANCE + "\n")
    host.make_path(tuple(name for name in ("openstack", "hostname") if name))  # no nova-manage here
    result = host.run(controller(host), "--connector", str(connector(host)), "--execute", env=CREDENTIALS)
    assert result.returncode == 4, result.output
    assert f"port {P_HYBRID} is bound to device '{OTHER_INSTANCE}', not to this instance" in result.stdout
    assert destructive(result.calls) == [f"openstack port set --host {TARGET} {P_OVS}"]
    assert "nova-manage is not installed here" in result.stdout


def test_controller_values_are_validated_and_quoted() -> None:
    with pytest.raises(TargetProblem):
        render_controller_script(
            dataclasses.replace(ACTIONS, rehost_host="x; rm -rf /"),
            bundle_id=BUNDLE, fixpack_version="0.1.0", release="2024.1",
        )  # fmt: skip
    with pytest.raises(TargetProblem):
        render_controller_script(
            ControllerActions(instance_uuid=INSTANCE, rebind_ports=(P_OVS,)), bundle_id=BUNDLE,
            fixpack_version="0.1.0", release="2024.1",
        )  # fmt: skip


# ---- source-<host>.sh --------------------------------------------------------------------


def source_script(h: FakeHost, vifs=("ovs_hybrid",), volumes=("iscsi_single",)) -> Path:
    plan = dataclasses.replace(cleanup(h, vifs, volumes), move_leftovers=True)
    text = render_compute_script(plan, bundle_id=BUNDLE, fixpack_version="0.1.0")
    return write_script(h.root, script_name(plan.host, (), "source"), text)


def test_source_script_name_and_shellcheck(host: FakeHost) -> None:
    assert script_name("compute-1.example.org", (), "source") == "source-compute-1.sh"
    result = shellcheck(
        source_script(host, ("ovs_hybrid", "ovs", "bridge", "vhostuser"), ("iscsi_single", "rbd"))
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_source_removes_the_leftovers_and_keeps_the_instance_directory(host: FakeHost) -> None:
    instance_dirs(host, ("", "_resize"))
    host.domain(DOMAIN, INSTANCE, "shut off")
    script = source_script(host)

    dry = host.run(script)
    assert dry.returncode == 0, dry.output
    assert destructive(dry.calls) == []
    assert (host.instances / f"{INSTANCE}_resize").is_dir()

    run = host.run(script, "--execute")
    assert run.returncode == 0, run.output
    calls = destructive(run.calls)
    assert f"ip link delete qbr{X}" in " ".join(calls) or f"brctl delbr qbr{X}" in calls
    assert f"ip link delete tap{X}" in calls
    assert calls[-3:] == iscsi_steps(IQN, PORTAL_A)
    assert not any(call.startswith("virsh") for call in calls)  # the shut-off definition is kept
    assert "HINT: once the guest is confirmed on the rehost target: virsh undefine" in run.stdout
    assert not (host.instances / f"{INSTANCE}_resize").exists()
    assert (host.instances / INSTANCE).is_dir()  # maybe the live guest's (shared storage): reported
    assert f"files: NOTE {host.instances}/{INSTANCE} is kept" in run.stdout
    assert (host.instances / ".fixpack-quarantine" / BUNDLE / f"{INSTANCE}_resize" / "disk").is_file()
    assert host.iscsi_sessions() == [] and f"tap{X}" not in host.links()

    host.settle_kernel()
    again = host.run(script, "--execute")
    assert again.returncode == 0, again.output
    assert destructive(again.calls) == []
    assert "Nothing to do: everything is already clean." in again.stdout


def test_source_refuses_while_the_domain_runs_there(host: FakeHost) -> None:
    instance_dirs(host, ("_resize",))
    host.domain(DOMAIN, INSTANCE, "running", ifaces=[f"tap{X}"])
    result = host.run(source_script(host), "--execute")
    assert result.returncode == 3, result.output
    assert "the guest still runs here" in result.stdout
    assert destructive(result.calls) == []
    assert (host.instances / f"{INSTANCE}_resize").is_dir()


def test_source_keeps_what_another_domain_uses(host: FakeHost) -> None:
    instance_dirs(host, ("_resize",))
    resize = host.instances / f"{INSTANCE}_resize"
    host.domain(
        "instance-0000002b", OTHER_INSTANCE, "running", ifaces=[tap(P_OVS)], disks=[("vda", f"{resize}/disk")]
    )
    result = host.run(source_script(host, ("ovs",), ()), "--execute")
    assert result.returncode == 4, result.output
    assert f"{tap(P_OVS)} is used by libvirt domain {OTHER_INSTANCE}: left alone" in result.stdout
    assert f"holds disk {resize}/disk of libvirt domain {OTHER_INSTANCE}: left alone" in result.stdout
    assert destructive(result.calls) == []
    assert resize.is_dir()


def test_source_refuses_the_wrong_host(tmp_path: Path) -> None:
    other = FakeHost(tmp_path, hostname=TARGET, fqdn=None)
    result = other.run(source_script(other), "--execute")
    assert result.returncode == 3, result.output
    assert f"this script is for host {OLD}" in result.stdout
    assert destructive(result.calls) == []


# ---- the generated bundle ------------------------------------------------------------------


@pytest.mark.db
def test_rehost_bundle_carries_both_scripts_and_they_act_on_the_databases_values(
    make_deployment, tmp_path: Path
) -> None:
    """A failed resize cmp-01 -> cmp-02 rehosted to cmp-02 (completed): the bundle's controller.sh
    rebinds the instance's port (from network_info) and refreshes its volume, and
    source-cmp-01.sh removes the _resize directory, VIFs and iSCSI session on cmp-01; both are
    in the manifest and the runbook."""
    from generator.pipeline import OutputOptions, generate_vm
    from generator.plan.vm_common import VmOptions
    from tests.bundles import targets_for
    from tests.db.plan.test_rehost_outcomes import _seed

    dep = make_deployment("2026.2")
    target = _seed(dep, status="error", vm_state="error")
    result = generate_vm(
        target.uuid, VmOptions(op="rehost", to_host="cmp-02"), targets_for(dep), "auto",
        OutputOptions(out_dir=tmp_path / "out"),
    )  # fmt: skip
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    actions, (left,) = result.plan.controller, result.plan.compute
    assert actions is not None and actions.rehost_host == "cmp-02" and actions.rebind_ports
    assert actions.refresh_volumes and (left.host, left.move_leftovers) == ("cmp-01", True)
    assert left.vifs and {c.driver for c in left.volumes} == {"iscsi"}
    manifest = (result.path / "manifest.json").read_text()
    readme = (result.path / "README.md").read_text()
    for name in ("shell/controller.sh", "shell/source-cmp-01.sh"):
        assert name in manifest and f"bash {name} --execute" in readme

    # controller.sh, after the apply, against the cloud the databases describe
    api = FakeHost(tmp_path / "controller", hostname="ctl-01", fqdn=None)
    (api.state / "openstack/volume").mkdir()
    (api.state / "openstack/server").mkdir()
    (api.state / "openstack/server" / target.uuid).write_text("SHUTOFF\n")
    for port in actions.rebind_ports:
        (api.state / "openstack/port" / port).write_text(target.uuid + "\n")
        (api.state / "openstack/port" / f"{port}.binding_host_id").write_text("cmp-01\n")
    for volume in actions.refresh_volumes:
        (api.state / "openstack/volume" / volume).write_text("in-use\n")
        doc = {"attachments": [{"server_id": target.uuid, "host_name": "cmp-01"}]}
        (api.state / "openstack/volume" / f"{volume}.attachments").write_text(json.dumps(doc))
    conn = tmp_path / "connector.json"
    conn.write_text('{"host": "cmp-02", "initiator": "iqn.1994-05.com.redhat:cmp02"}')
    script = result.path / "shell/controller.sh"
    dry = api.run(script, "--connector", str(conn), env=CREDENTIALS)
    assert dry.returncode == 0 and destructive(dry.calls) == [], dry.output
    run = api.run(script, "--connector", str(conn), "--execute", env=CREDENTIALS)
    assert run.returncode == 0, run.output
    assert destructive(run.calls) == [
        *(f"openstack port set --host cmp-02 {port}" for port in actions.rebind_ports),
        *(f"nova-manage volume_attachment refresh {target.uuid} {v} {conn}" for v in actions.refresh_volumes),
    ]
    again = api.run(script, "--connector", str(conn), "--execute", env=CREDENTIALS)
    assert again.returncode == 0 and destructive(again.calls) == [], again.output

    # source-cmp-01.sh on the host the move left
    node = FakeHost(tmp_path / "cmp-01", hostname="cmp-01", fqdn=None)
    for vif in left.vifs:
        x = vif.port_id[:11]
        node.link(f"tap{x}", master=f"qbr{x}")
        node.link(f"qbr{x}")
        node.link(f"qvb{x}", master=f"qbr{x}", peer=f"qvo{x}")
        node.ovs_port(f"qvo{x}")
    for sid, conn_info in enumerate(left.volumes, 1):
        for iqn, portal, lun in conn_info.iscsi_targets:
            node.iscsi_session(sid, iqn, portal, {int(lun): f"sd{chr(97 + sid)}"})
    instances = Path(left.instances_path)
    text = (
        (result.path / "shell/source-cmp-01.sh")
        .read_text()
        .replace(f"readonly INSTANCES_PATH={instances}", f"readonly INSTANCES_PATH={node.instances}")
    )
    assert f"readonly INSTANCES_PATH={node.instances}" in text
    source = write_script(node.root, "source-cmp-01.sh", text)
    (node.instances / f"{target.uuid}_resize").mkdir()
    run = node.run(source, "--execute")
    assert run.returncode == 0, run.output
    assert not (node.instances / f"{target.uuid}_resize").exists()
    assert node.iscsi_sessions() == [] and node.ovs_ports() == set()
    assert not any(name.startswith(("tap", "qbr", "qvb")) for name in node.links())
    node.settle_kernel()
    again = node.run(source, "--execute")
    assert again.returncode == 0 and destructive(again.calls) == [], again.output
