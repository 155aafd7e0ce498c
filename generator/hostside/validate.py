"""Strict validators for every database value that reaches a generated shell script.

The databases are input, not trusted code: `instance_info_caches.network_info`
and `block_device_mapping.connection_info` are JSON written by services and
drivers, and anyone who could write a row could plant `tap1;rm -rf /` there.
Quoting alone is not enough (a well-quoted `../../etc` is still a path
traversal, a quoted `-rf` still an option), so each value must match the exact
shape expected for it before it is quoted into a script. A value that does not
is a TargetProblem at generation time, naming the field and showing the
offending value (repr, truncated) so the operator can find the bad row.

Each validator returns the value normalised (lower-cased where the shape is
case-insensitive and the tools compare it that way).
"""

from __future__ import annotations

import ipaddress
import re

from generator.errors import TargetProblem

_REPR_LIMIT = 60

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_IFNAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
_IQN = re.compile(
    r"iqn\.[0-9]{4}-(?:0[1-9]|1[0-2])"  # iqn.YYYY-MM
    r"\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # reversed domain, first label
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[A-Za-z0-9._:-]+)?"  # optional unique suffix
)
_EUI_NAA = re.compile(r"(?:eui\.[0-9A-Fa-f]{16}|naa\.(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{32}))")
_WWN = re.compile(r"(?:0x)?[0-9a-f]{16}")
_WWN_COLONS = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){7}")
_PATH_COMPONENT = re.compile(r"[A-Za-z0-9_.+@-]+")
_DOMAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}")
_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")

MAX_LUN = 16383
MAX_PATH = 4096


def show(value: object) -> str:
    """repr() of a bad value, truncated so one hostile row cannot flood the terminal."""
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 1] + "…"


def reject(field: str, value: object, expected: str) -> TargetProblem:
    """The one-line error every validator raises: which field, what it held, what it should be."""
    return TargetProblem(f"refusing unsafe {field} {show(value)}: expected {expected}")


def _text(field: str, value: object, expected: str) -> str:
    if not isinstance(value, str):
        raise reject(field, value, expected)
    return value


def uuid(value: object, field: str = "UUID") -> str:
    """Canonical 8-4-4-4-12 UUID; upper case is accepted and lower-cased (MySQL compares both)."""
    text = _text(field, value, "a UUID")
    lowered = text.lower()
    if not _UUID.fullmatch(lowered):
        raise reject(field, value, "a canonical UUID like 0a1b2c3d-0000-4000-8000-00112233aabb")
    return lowered


def ifname(value: object, field: str = "interface name") -> str:
    """A Linux network interface name: at most 15 characters of [A-Za-z0-9_.-], no leading '-'.

    The kernel's IFNAMSIZ is 16 bytes with the NUL; '/' and whitespace are
    impossible and anything else would be a quoting risk in tooling output.
    """
    text = _text(field, value, "an interface name")
    if not _IFNAME.fullmatch(text) or text in (".", ".."):
        raise reject(field, value, "1-15 characters of [A-Za-z0-9_.-], not starting with '-'")
    return text


def bridge_name(value: object, field: str = "bridge name") -> str:
    """Linux bridges and OVS bridges are network devices too: same rule as interface names."""
    return ifname(value, field)


def hostname(value: object, field: str = "hostname") -> str:
    """RFC 1123 host name (labels of letters, digits and inner hyphens; at most 253 characters)."""
    text = _text(field, value, "a host name")
    stripped = text[:-1] if text.endswith(".") else text
    if not stripped or len(stripped) > 253 or not all(_LABEL.fullmatch(p) for p in stripped.split(".")):
        raise reject(field, value, "an RFC 1123 host name")
    return stripped


def mac(value: object, field: str = "MAC address") -> str:
    text = _text(field, value, "a MAC address").lower()
    if not _MAC.fullmatch(text):
        raise reject(field, value, "a MAC address like fa:16:3e:00:11:22")
    return text


def iqn(value: object, field: str = "iSCSI target IQN") -> str:
    """iqn.YYYY-MM.reversed.domain[:suffix], or the eui./naa. forms of RFC 3720/3980.

    Returned as given (not lower-cased): iscsiadm matches node records by the
    exact string the target was discovered with.
    """
    text = _text(field, value, "an iSCSI qualified name")
    if len(text) > 223 or not (_IQN.fullmatch(text) or _EUI_NAA.fullmatch(text)):
        raise reject(field, value, "an iSCSI name iqn.YYYY-MM.domain[:suffix], eui.<16 hex> or naa.<hex>")
    return text


def portal(value: object, field: str = "iSCSI portal") -> str:
    """IPv4:port, [IPv6]:port or hostname:port; the port is mandatory (Cinder always sends it)."""
    text = _text(field, value, "an iSCSI portal")
    expected = "an iSCSI portal IPv4:port, [IPv6]:port or hostname:port"
    host, sep, port = text.rpartition(":")
    if not sep or not _PORT.fullmatch(port) or int(port) > 65535:
        raise reject(field, value, expected)
    if host.startswith("[") and host.endswith("]"):
        if "%" in host:  # a zone id is free text: not worth the risk
            raise reject(field, value, expected)
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise reject(field, value, expected) from None
        return text  # as given: iscsiadm keys node records by the exact portal string
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise reject(field, value, expected) from None
        return text
    try:
        hostname(host, field)
    except TargetProblem:
        raise reject(field, value, expected) from None
    return text


def lun(value: object, field: str = "LUN") -> int:
    """A SCSI LUN as Cinder drivers report it: an int 0..16383 (digit strings are tolerated)."""
    if isinstance(value, bool):
        raise reject(field, value, f"an integer 0..{MAX_LUN}")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_LUN:
        raise reject(field, value, f"an integer 0..{MAX_LUN}")
    return value


def wwn(value: object, field: str = "FC target WWN") -> str:
    """16 hex digits, lower-cased (as os-brick and sysfs port_name have them); 0x and colons stripped."""
    text = _text(field, value, "a WWN").lower()
    if _WWN_COLONS.fullmatch(text):
        return text.replace(":", "")
    if not _WWN.fullmatch(text):
        raise reject(field, value, "a WWN of 16 hex digits")
    return text.removeprefix("0x")


def safe_path(value: object, field: str = "path") -> str:
    """An absolute path of plain components ([A-Za-z0-9_.+@-], no '.' or '..', no '-' first).

    The script removes and moves things by these paths, so a traversal or an
    option-looking component is refused, not merely quoted. A trailing slash
    is dropped.
    """
    text = _text(field, value, "an absolute path")
    expected = "an absolute path of components [A-Za-z0-9_.+@-] without '.', '..' or a leading '-'"
    if not text.startswith("/") or len(text) > MAX_PATH:
        raise reject(field, value, expected)
    body = text[1:-1] if text.endswith("/") and len(text) > 1 else text[1:]
    if not body:
        raise reject(field, value, expected)  # "/" itself is never a sane target
    for part in body.split("/"):
        if part in ("", ".", "..") or part.startswith("-") or not _PATH_COMPONENT.fullmatch(part):
            raise reject(field, value, expected)
    return "/" + body


def nfs_export(value: object, field: str = "NFS export") -> str:
    """host:/path where host is a host name, IPv4 or [IPv6] and the path is a safe path."""
    text = _text(field, value, "an NFS export")
    expected = "an NFS export host:/path"
    if text.startswith("["):
        addr, sep, path = text[1:].partition("]:")
        try:
            if "%" in addr:
                raise ValueError(addr)
            host = f"[{ipaddress.IPv6Address(addr).compressed}]"
        except ValueError:
            raise reject(field, value, expected) from None
    else:
        host, sep, path = text.partition(":")
        try:
            host = hostname(host, field)
        except TargetProblem:
            raise reject(field, value, expected) from None
    if not sep:
        raise reject(field, value, expected)
    try:
        return f"{host}:{safe_path(path, field)}"
    except TargetProblem:
        raise reject(field, value, expected) from None


def domain_name(value: object, field: str = "libvirt domain name") -> str:
    """libvirt names from instance_name_template (default instance-%08x): a plain token."""
    text = _text(field, value, "a libvirt domain name")
    if not _DOMAIN_NAME.fullmatch(text):
        raise reject(field, value, "up to 255 characters of [A-Za-z0-9_.+-], not starting with '-' or '.'")
    return text


def token(value: object, field: str) -> str:
    """A plain identifier (bundle id, version, release name) embedded in names and log paths."""
    text = _text(field, value, "a plain identifier")
    if not _TOKEN.fullmatch(text):
        raise reject(field, value, "an identifier of [A-Za-z0-9_.+-], not starting with '-' or '.'")
    return text
