"""Render the bundle's shell scripts: `shell/compute-<host>.sh`, `shell/source-<host>.sh` (the
host a rehost's failed move left) and `shell/controller.sh`.

Values from the plan are re-validated here (the plan is a plain data structure and
the script must be safe whatever built it), then quoted in Python by
generator.quoting (`shell_arg`, `shell_args`: shlex.quote).
Jinja only lays the file out: it never sees an unquoted database value, so no
template can forget to quote one. The scripts themselves re-check the host before
every change; see templates/shell/ for what they do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from generator.errors import TargetProblem
from generator.hostside import validate
from generator.hostside.connection_info import checked_connection
from generator.hostside.network_info import checked_vif, hybrid_names, vhostuser_port_name
from generator.plan.model import ComputeCleanup, ControllerActions, Vif, VolumeConnection
from generator.quoting import shell_arg, shell_args
from generator.render.templates import render


def quoted(values: Iterable[object]) -> str:
    """Shell words for an argument list (quoting.shell_args: each value shlex-quoted)."""
    return shell_args(values)


def script_name(host: str, hosts: Iterable[str] = (), kind: str = "compute") -> str:
    """The bundle file name of a host's compute (or, kind "source", source-host) script.

    `compute-<short name>.sh`: the host's first DNS label (its full name when another host of
    the bundle, `hosts`, has the same first label), and no doubled word for hosts that are
    already called compute-something (`compute-1.example.org` -> `compute-1.sh`). Hostnames
    are letters, digits, dots and dashes (validate.hostname), so the name needs no quoting.
    """
    name = validate.hostname(host, "compute host")
    short = name.split(".", 1)[0]
    if any(other != host and other.split(".", 1)[0] == short for other in hosts):
        short = name
    doubled = short.lower().startswith(kind) and short.lower() != kind
    return f"{short}.sh" if doubled else f"{kind}-{short}.sh"


def _vif_call(vif: Vif) -> dict[str, str]:
    """The cleanup function for one VIF and its quoted arguments."""
    port = vif.port_id
    if vif.vif_type == "ovs_hybrid":
        qbr, qvb, qvo = hybrid_names(port)
        args: list[object] = [port, vif.devname, qbr, qvb, qvo, vif.bridge or "br-int"]
    elif vif.vif_type == "ovs":
        args = [port, vif.devname, vif.bridge or "br-int"]
    elif vif.vif_type == "bridge":
        args = [port, vif.devname, vif.bridge or ""]
    elif vif.vif_type == "vhostuser":
        args = [port, vhostuser_port_name(port), vif.bridge or "", vif.socket_path or ""]
    else:
        args = [port]
    return {"kind": vif.vif_type, "args": quoted(args)}


def _volume_call(conn: VolumeConnection) -> dict[str, str]:
    """The cleanup function for one volume connection and its quoted arguments."""
    args: list[object] = [conn.volume_id]
    if conn.driver == "iscsi":
        for iqn, portal, lun in conn.iscsi_targets:
            args += [iqn, portal, lun]
    elif conn.driver == "fibre_channel":
        for wwn, lun in conn.fc_targets:
            args += [wwn, lun]
    elif conn.driver == "nfs":
        args.append(conn.nfs_export or "")
    return {"kind": conn.driver, "args": quoted(args)}


def render_compute_script(cleanup: ComputeCleanup, *, bundle_id: str, fixpack_version: str) -> str:
    """The compute-node cleanup script for one instance on one host; for `move_leftovers`, the
    source-host script of a rehost (templates/shell/source.sh.j2, same fragments and checks).

    Raises TargetProblem when any value does not have the shape expected for it.
    """
    host = validate.hostname(cleanup.host, "compute host")
    uuid = validate.uuid(cleanup.instance_uuid, "instance UUID")
    domain = validate.domain_name(cleanup.domain_name)
    instances_path = validate.safe_path(cleanup.instances_path, "instances_path")
    bundle = validate.token(bundle_id, "bundle id")
    version = validate.token(fixpack_version, "fixpack version")
    vifs = [checked_vif(vif) for vif in cleanup.vifs]
    volumes = [checked_connection(conn) for conn in cleanup.volumes]
    if cleanup.volumes_only and vifs:
        raise TargetProblem("a volume-only compute cleanup cannot name VIFs (it never unplugs the instance)")
    if cleanup.volumes_only and cleanup.move_leftovers:
        raise TargetProblem("a source-host cleanup is not a volume-only detach")
    _unique("port", [vif.port_id for vif in vifs])
    _unique("volume", [conn.volume_id for conn in volumes])

    vif_kinds = {vif.vif_type for vif in vifs}
    volume_kinds = {conn.driver for conn in volumes}
    uses = {
        "vif_kinds": vif_kinds,
        "volume_kinds": volume_kinds,
        "bridge_tools": "ovs_hybrid" in vif_kinds,
        "ovs": any(
            v.vif_type in ("ovs_hybrid", "ovs") or (v.vif_type, bool(v.bridge)) == ("vhostuser", True)
            for v in vifs
        ),
        "iscsi": "iscsi" in volume_kinds,
        "fc": "fibre_channel" in volume_kinds,
        "scsi": bool({"iscsi", "fibre_channel"} & volume_kinds),
    }
    return render(
        "shell/source.sh.j2" if cleanup.move_leftovers else "shell/compute.sh.j2",
        # for comments: validated, plain-charset values
        host_text=host,
        uuid_text=uuid,
        domain_text=domain,
        path_text=instances_path,
        bundle_text=bundle,
        version_text=version,
        # for code: shell words
        fixpack_version=shell_arg(version),
        bundle_id=shell_arg(bundle),
        host=shell_arg(host),
        instance_uuid=shell_arg(uuid),
        domain_name=shell_arg(domain),
        instances_path=shell_arg(instances_path),
        vifs=[_vif_call(vif) for vif in vifs],
        volumes=[_volume_call(conn) for conn in volumes],
        uses=uses,
        volumes_only=cleanup.volumes_only,
        move_leftovers=cleanup.move_leftovers,
        log_kind="source" if cleanup.move_leftovers else "compute",
    )


def render_controller_script(
    actions: ControllerActions,
    *,
    bundle_id: str,
    fixpack_version: str,
    release: str,
    offline: bool = False,
    captured: str | None = None,
) -> str:
    """The controller (API-side) script: Neutron ports, shelved image, detach hints, tokens,
    and the delete_on_termination volumes Nova's delete removes through Cinder's API; for a
    rehost (`rehost_host`), the port rebinds and attachment refreshes instead.

    Ports in `preserved_ports` (preserve_on_delete: created outside Nova) are only
    shown with the unbind command, as Nova itself never deletes them.

    `offline`: the bundle could not know the ports or the shelved image; the script looks
    the ports up at run time, deletes only those named with --delete-port, and never
    claims "everything is already clean". `captured` (offline, `volumes_from_capture`): the
    bundle-relative rollback file the Nova cell capture writes; the script reads the
    delete_on_termination volumes from it (render/offline_doomed.py) and deletes them as the live
    script does.

    Raises TargetProblem when a value has the wrong shape, or when ports, volumes or
    memcached tokens are to be handled without the instance UUID they belong to.
    """
    bundle = validate.token(bundle_id, "bundle id")
    version = validate.token(fixpack_version, "fixpack version")
    release_name = validate.token(release, "release")
    uuid = None if actions.instance_uuid is None else validate.uuid(actions.instance_uuid, "instance UUID")
    ports = [validate.uuid(port, "Neutron port id") for port in actions.neutron_ports]
    preserved = [validate.uuid(port, "Neutron port id") for port in actions.preserved_ports]
    volumes = [validate.uuid(vol, "volume UUID") for vol in actions.volumes_to_detach]
    doomed = [validate.uuid(vol, "volume UUID") for vol in actions.volumes_to_delete]
    rehost = (
        None if actions.rehost_host is None else validate.hostname(actions.rehost_host, "rehost target host")
    )
    rebind = [validate.uuid(port, "Neutron port id") for port in actions.rebind_ports]
    refresh = [validate.uuid(vol, "volume UUID") for vol in actions.refresh_volumes]
    _unique("port", rebind)
    _unique("volume", refresh)
    if (rebind or refresh) and rehost is None:
        raise TargetProblem("ports to rebind or attachments to refresh need the rehost target host")
    if rehost is not None and (ports or preserved or volumes or doomed or actions.shelved_image or offline):
        raise TargetProblem("a rehost controller script only rebinds ports and refreshes attachments")
    if actions.volumes_from_capture != (captured is not None) or (captured and not offline):
        raise TargetProblem("an offline controller script reads the volumes from the Nova cell capture only")
    if captured is not None and not _CAPTURED.fullmatch(captured):
        raise TargetProblem(f"not a captured rollback file of a bundle: {captured!r}")
    image = actions.shelved_image
    image = None if image is None else validate.uuid(image, "shelved image id")
    _unique("port", ports + preserved)  # a preserved port is never also one to delete
    _unique("volume", volumes + doomed)
    if uuid is None and (
        ports or preserved or volumes or doomed or actions.memcached_tokens or offline or rehost
    ):
        raise TargetProblem("controller actions name ports, volumes or console tokens but no instance UUID")
    return render(
        "shell/controller.sh.j2",
        uuid_text=uuid or "",
        bundle_text=bundle,
        version_text=version,
        release_text=release_name,
        fixpack_version=shell_arg(version),
        bundle_id=shell_arg(bundle),
        release=shell_arg(release_name),
        instance_uuid=shell_arg(uuid) if uuid else "",
        ports=quoted(ports),
        preserved_ports=quoted(preserved),
        has_preserved=bool(preserved),
        volumes=quoted(volumes),
        shelved_image=shell_arg(image) if image else "",
        has_ports=bool(ports),
        has_volumes=bool(volumes),
        doomed_volumes=quoted(doomed),
        has_doomed=bool(doomed),
        captured=shell_arg(captured) if captured else "",
        has_captured=captured is not None,
        captured_text=captured or "",
        has_image=image is not None,
        memcached=bool(actions.memcached_tokens),
        offline=offline,
        rehost=rehost is not None,
        rehost_text=rehost or "",
        rehost_host=shell_arg(rehost) if rehost else "",
        rebind_ports=quoted(rebind),
        has_rebind=bool(rebind),
        refresh_volumes=quoted(refresh),
        has_refresh=bool(refresh),
        log_kind="controller",
    )


_CAPTURED = re.compile(r"captured/[0-9]{2}-rollback-nova\.sql")


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise TargetProblem(f"{what} {value} is listed twice for the same script")
        seen.add(value)


def render_offline_compute_script(
    instance_uuid: str,
    *,
    bundle_id: str,
    fixpack_version: str,
    instances_path: str = "/var/lib/nova/instances",
) -> str:
    """The offline bundle's compute script: the host, domain, devices and volumes are found at run time.

    It reuses the live script's building blocks (templates/shell/_compute_*.sh.j2) with every
    plug type and iSCSI enabled, since what the instance has is only known on the host.
    """
    uuid = validate.uuid(instance_uuid, "instance UUID")
    path = validate.safe_path(instances_path, "instances_path")
    bundle = validate.token(bundle_id, "bundle id")
    version = validate.token(fixpack_version, "fixpack version")
    vif_kinds = {"ovs_hybrid", "ovs", "bridge", "vhostuser"}
    uses = {
        "vif_kinds": vif_kinds,
        "volume_kinds": {"iscsi"},
        "bridge_tools": True,
        "ovs": True,
        "iscsi": True,
        "fc": False,
        "scsi": True,
    }
    return render(
        "shell/compute_offline.sh.j2",
        uuid_text=uuid,
        path_text=path,
        bundle_text=bundle,
        version_text=version,
        fixpack_version=shell_arg(version),
        bundle_id=shell_arg(bundle),
        instance_uuid=shell_arg(uuid),
        instances_path=shell_arg(path),
        uses=uses,
        volumes_only=False,
        move_leftovers=False,
        log_kind="compute",
    )
