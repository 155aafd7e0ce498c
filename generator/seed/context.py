"""State shared by the per-service seeding modules: randomness, the row buffer, caches.

Keystone and Glance have no database in a deployment, but their ids are everywhere
(project/user ids, image refs), so the seeder invents them here once and reuses them,
as a real cloud would: a few projects with a couple of users each, a handful of images.
Rows that exist once per deployment (flavors, cell ids) are looked up in the
deployment first, so a second Seeder on the same deployment extends it consistently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from generator.scratch.deployment import Deployment
from generator.seed import shapes
from generator.seed.model import HostState, InstanceState, Network, Project, User
from generator.seed.shapes import Memo
from generator.seed.values import FLAVORS, IMAGES, Rand
from generator.seed.values import at_least as _at_least
from generator.seed.writer import RowBuffer, SeedError

CELL_ROLES = {"cell1": "nova", "cell0": "nova_cell0"}


class SeedContext:
    """Everything the builders share; one per Seeder."""

    def __init__(self, dep: Deployment, seed: int, *, consumer_types: bool = False) -> None:
        self.dep = dep
        self.release = dep.release
        # A deployment that already holds seeded rows gets a different stream from the same
        # seed (ids must not collide), and the MACs in use are reserved (unique index).
        existing = dep.query("nova", "SELECT COUNT(*) AS n FROM instances")[0]["n"]
        existing += dep.query("cinder", "SELECT COUNT(*) AS n FROM volumes")[0]["n"]
        self.rand = Rand(seed if not existing else seed * 1_000_003 + existing, dep.release)
        self.memo = Memo()
        if existing:
            for role in ("nova", "nova_cell0"):
                for r in dep.query(role, "SELECT address FROM virtual_interfaces"):
                    self.rand.reserve_mac(r["address"])
        self.buf = RowBuffer(dep)
        self.consumer_types = consumer_types
        self.projects: list[Project] = []
        self.hosts: dict[str, HostState] = {}
        self.instances: dict[str, InstanceState] = {}
        self.placement_users: dict[str, int] = {}
        self.keypairs: dict[str, tuple[str, str, str]] = {}
        self.images: list[dict[str, Any]] = []
        self.admin_project = self.rand.hex_id()
        cells = dep.query("nova_api", "SELECT id, name FROM cell_mappings")
        self.cell_ids: dict[str, int] = {r["name"]: r["id"] for r in cells}
        self._flavors: dict[str, tuple[int, dt.datetime]] | None = None
        self._host_rr = 0
        self._flavor_objs: dict[tuple[str, str], dict] = {}

    # release -------------------------------------------------------------------
    def at_least(self, floor: str) -> bool:
        return _at_least(self.release, floor)

    def has(self, role: str, table: str, column: str | None = None) -> bool:
        if column is None:
            return self.buf.has_table(role, table)
        return self.buf.has_column(role, table, column)

    @staticmethod
    def cell_role(cell: str) -> str:
        try:
            return CELL_ROLES[cell]
        except KeyError:
            raise SeedError(f"unknown cell {cell!r}; expected one of {sorted(CELL_ROLES)}") from None

    # keystone ------------------------------------------------------------------
    def new_project(self) -> Project:
        n = len(self.projects) + 1
        users = [User(self.rand.hex_id(), f"user-{n}-{k}") for k in (1, 2)]
        net = Network(self.rand.uuid(), f"project-{n}-net", f"10.{(n - 1) % 250 + 1}")
        project = Project(self.rand.hex_id(), f"project-{n}", users, net)
        self.projects.append(project)
        return project

    def project(self, project_id: str | None) -> Project:
        """The named project (created on first sight) or the next of a pool of three."""
        if project_id is not None:
            for p in self.projects:
                if p.id == project_id:
                    return p
            project = self.new_project()
            project.id = project_id
            return project
        while len(self.projects) < 3:
            self.new_project()
        return self.projects[self.rand.randint(0, len(self.projects) - 1)]

    def user(self, project: Project, user_id: str | None) -> User:
        if user_id is None:
            return project.users[self.rand.randint(0, len(project.users) - 1)]
        for u in project.users:
            if u.id == user_id:
                return u
        user = User(user_id, f"user-{user_id[:8]}")
        project.users.append(user)
        return user

    # glance --------------------------------------------------------------------
    def image(self, index: int | None = None) -> dict[str, Any]:
        if not self.images:
            for name, fmt, size, min_disk, distro in IMAGES:
                created = self.rand.base - dt.timedelta(days=30)
                self.images.append(
                    {
                        "id": self.rand.uuid(),
                        "name": name,
                        "disk_format": fmt,
                        "size": size,
                        "virtual_size": size * 4,
                        "min_disk": min_disk,
                        "checksum": self.rand.token(16),
                        "owner": self.admin_project,
                        "created_at": created,
                        "properties": {
                            "hw_disk_bus": "virtio",
                            "hw_vif_model": "virtio",
                            "hw_qemu_guest_agent": "yes",
                            "os_distro": distro,
                            "os_type": "linux",
                        },
                    }
                )
        if index is None:
            index = self.rand.randint(0, len(self.images) - 1)
        return self.images[index % len(self.images)]

    # nova_api flavors ------------------------------------------------------------
    def flavor(self, name: str) -> tuple[int, dt.datetime, dict]:
        """nova_api.flavors row id, created_at and spec; rows are created on first use."""
        if name not in FLAVORS:
            raise SeedError(f"unknown flavor {name!r}; known: {', '.join(FLAVORS)}")
        if self._flavors is None:
            rows = self.dep.query("nova_api", "SELECT id, name, created_at FROM flavors")
            self._flavors = {r["name"]: (r["id"], r["created_at"]) for r in rows}
        if name not in self._flavors:
            spec = FLAVORS[name]
            fid = self.buf.next_id("nova_api", "flavors")
            created = self.rand.base - dt.timedelta(days=29)
            self.buf.add(
                "nova_api",
                "flavors",
                {
                    "created_at": created,
                    "updated_at": None,
                    "name": name,
                    "id": fid,
                    "memory_mb": spec["memory_mb"],
                    "vcpus": spec["vcpus"],
                    "swap": 0,
                    "vcpu_weight": None,
                    "flavorid": spec["flavorid"],
                    "rxtx_factor": 1.0,
                    "root_gb": spec["root_gb"],
                    "ephemeral_gb": 0,
                    "disabled": 0,
                    "is_public": 1,
                    "description": None,
                },
            )
            self._flavors[name] = (fid, created)
        fid, created = self._flavors[name]
        return fid, created, FLAVORS[name]

    def flavor_obj(self, name: str) -> dict:
        """The Flavor primitive nova embeds in instance_extra and request specs; cached."""
        key = ("flavor_obj", name)
        if key not in self._flavor_objs:
            fid, created, spec = self.flavor(name)
            self._flavor_objs[key] = shapes.flavor(fid, name, spec, created)
        return self._flavor_objs[key]

    # hosts ---------------------------------------------------------------------
    def pick_host(self, cell: str, exclude: HostState | None = None) -> HostState | None:
        """Round-robin over the seeded compute hosts of a cell."""
        candidates = [h for h in self.hosts.values() if h.public.cell == cell and h is not exclude]
        if not candidates:
            return None
        self._host_rr += 1
        return candidates[self._host_rr % len(candidates)]
