"""Deterministic, realistic-looking values, and the per-release facts the seeder needs.

Everything random comes from one `random.Random(seed)` so the same seed gives the
same rows, byte for byte, on every run: repair-bundle tests compare pre- and
post-images and golden files, which only works when the input data is stable.
Timestamps are derived from the release date (not the wall clock) for the same reason.

The version strings below were read from the released nova / cinder packages of each
catalog release (nova/objects/*.py `VERSION`, cinder/*/rpcapi.py `RPC_API_VERSION`), so
JSON payloads carry the object versions that release's services really write.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import random
import uuid as uuidlib
from collections.abc import Sequence
from typing import TypeVar

from generator.catalog import release_names

T = TypeVar("T")

# Roughly each release's GA date; seeded rows are "created" a few weeks later.
RELEASE_DATES: dict[str, dt.datetime] = {
    "xena": dt.datetime(2021, 10, 6),
    "yoga": dt.datetime(2022, 3, 30),
    "zed": dt.datetime(2022, 10, 5),
    "2023.1": dt.datetime(2023, 3, 22),
    "2023.2": dt.datetime(2023, 10, 4),
    "2024.1": dt.datetime(2024, 4, 3),
    "2024.2": dt.datetime(2024, 10, 2),
    "2025.1": dt.datetime(2025, 4, 2),
    "2025.2": dt.datetime(2025, 10, 1),
    "2026.1": dt.datetime(2026, 4, 1),
    "2026.2": dt.datetime(2026, 10, 1),
}

# nova/objects/image_meta.py ImageMetaProps.VERSION per release.
IMAGE_META_PROPS_VERSION = {
    "xena": "1.30",
    "yoga": "1.31",
    "zed": "1.34",
    "2023.1": "1.34",
    "2023.2": "1.34",
    "2024.1": "1.37",
    "2024.2": "1.38",
    "2025.1": "1.39",
    "2025.2": "1.42",
    "2026.1": "1.42",
    "2026.2": "1.44",
}

# cinder volume / backup RPC_API_VERSION per release (services.rpc_current_version).
CINDER_VOLUME_RPC = {"xena": "3.16", "2024.1": "3.19", "2024.2": "3.19"}
CINDER_BACKUP_RPC = {"xena": "2.2", "yoga": "2.3", "zed": "2.3"}


@functools.cache
def release_index(release: str) -> int:
    """Position of a catalog release, oldest first, for `at_least` comparisons."""
    return release_names().index(release)


def at_least(release: str, floor: str) -> bool:
    return release_index(release) >= release_index(floor)


def cinder_volume_rpc(release: str) -> str:
    if release in CINDER_VOLUME_RPC:
        return CINDER_VOLUME_RPC[release]
    return "3.20" if at_least(release, "2025.1") else "3.18"


def cinder_backup_rpc(release: str) -> str:
    return CINDER_BACKUP_RPC.get(release, "2.4")


# Flavors as a typical cloud has them (nova_api.flavors); memory in MB, disks in GB.
FLAVORS: dict[str, dict] = {
    "m1.tiny": {"vcpus": 1, "memory_mb": 512, "root_gb": 1, "flavorid": "1"},
    "m1.small": {"vcpus": 1, "memory_mb": 2048, "root_gb": 20, "flavorid": "2"},
    "m1.medium": {"vcpus": 2, "memory_mb": 4096, "root_gb": 40, "flavorid": "3"},
    "m1.large": {"vcpus": 4, "memory_mb": 8192, "root_gb": 80, "flavorid": "4"},
    "m1.xlarge": {"vcpus": 8, "memory_mb": 16384, "root_gb": 160, "flavorid": "5"},
}
FLAVOR_ORDER = tuple(FLAVORS)

# Glance images the seeded instances boot from: (name, disk_format, size, min_disk, os_distro).
IMAGES = (
    ("cirros-0.6.2-x86_64-disk", "qcow2", 21430272, 0, "cirros"),
    ("ubuntu-22.04-server-cloudimg-amd64", "qcow2", 684392448, 0, "ubuntu"),
    ("Rocky-9-GenericCloud-Base.latest.x86_64", "qcow2", 1090846720, 10, "rocky"),
)


class Rand:
    """The seeder's single source of randomness and of unique identifiers."""

    def __init__(self, seed: int, release: str) -> None:
        self.r = random.Random(seed)
        self.base = RELEASE_DATES.get(release, dt.datetime(2025, 1, 1)) + dt.timedelta(days=21)
        self._clock = 0.0
        self._macs: set[int] = set()

    # identifiers -------------------------------------------------------------
    def uuid(self) -> str:
        """A version-4 UUID string, as oslo's generate_uuid() produces."""
        return str(uuidlib.UUID(int=self.r.getrandbits(128), version=4))

    def hex_id(self) -> str:
        """A Keystone project/user id: 32 lowercase hex characters, no dashes."""
        return uuidlib.UUID(int=self.r.getrandbits(128), version=4).hex

    def mac(self) -> str:
        """A Neutron port MAC (base_mac fa:16:3e:00:00:00), unique within this seeder."""
        while True:
            tail = self.r.getrandbits(24)
            if tail not in self._macs:
                self._macs.add(tail)
                return f"fa:16:3e:{tail >> 16:02x}:{(tail >> 8) & 0xFF:02x}:{tail & 0xFF:02x}"

    def reserve_mac(self, mac: str) -> None:
        """Mark a MAC already used in the deployment (virtual_interfaces is unique on it)."""
        if mac and mac.startswith("fa:16:3e:"):
            self._macs.add(int(mac[9:].replace(":", ""), 16))

    def token(self, nbytes: int = 16) -> str:
        return f"{self.r.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def password(self, length: int = 16) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
        return "".join(self.r.choice(alphabet) for _ in range(length))

    def wwn(self) -> str:
        return f"50{self.r.getrandbits(56):014x}"

    def ssh_public_key(self, comment: str) -> tuple[str, str]:
        """An ed25519 public key line and its MD5 fingerprint as nova computes it."""
        blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + self.r.getrandbits(256).to_bytes(32, "big")
        digest = hashlib.md5(blob).hexdigest()
        fingerprint = ":".join(digest[i : i + 2] for i in range(0, 32, 2))
        return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}", fingerprint

    # time ----------------------------------------------------------------------
    def now(self, advance: float = 0.0) -> dt.datetime:
        """A monotonically advancing seeded clock: later entities are created later."""
        self._clock += advance
        return (self.base + dt.timedelta(seconds=self._clock)).replace(microsecond=0)

    def tick(self, low: float = 5.0, high: float = 120.0) -> dt.datetime:
        return self.now(self.r.uniform(low, high))

    def choice(self, seq: Sequence[T]) -> T:
        return self.r.choice(seq)

    def randint(self, low: int, high: int) -> int:
        return self.r.randint(low, high)

    def chance(self, p: float) -> bool:
        return self.r.random() < p


def iso(ts: dt.datetime | None) -> str | None:
    """The way oslo.serialization writes a datetime inside nova object JSON."""
    return None if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(ts: dt.datetime) -> str:
    """`datetime.isoformat()` of a naive UTC time, as nova writes `shelved_at`."""
    return ts.replace(microsecond=123456).isoformat()


def epoch(ts: dt.datetime) -> int:
    return int(ts.replace(tzinfo=dt.timezone.utc).timestamp())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ip4(prefix: str, host: int) -> str:
    """`prefix` is the first three octets, e.g. '10.12.3'."""
    return f"{prefix}.{host}"
