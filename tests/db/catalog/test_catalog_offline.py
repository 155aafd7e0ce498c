"""The bundled catalog, read offline: complete, parseable, consistent with its index."""

from __future__ import annotations

import pytest

from generator import catalog
from generator.catalog.declared import RELEASE_NAMES
from generator.errors import SchemaProblem
from generator.schema.model import DATABASE_KINDS


def test_every_declared_release_is_captured() -> None:
    assert catalog.release_names() == RELEASE_NAMES
    assert {"xena", "yoga", "zed", "2023.1", "2026.2"} <= set(RELEASE_NAMES)


@pytest.mark.parametrize("release", RELEASE_NAMES)
@pytest.mark.parametrize("kind", DATABASE_KINDS)
def test_catalog_fingerprint_matches_index(release: str, kind: str) -> None:
    snap = catalog.catalog_snapshot(release, kind)
    assert snap.fingerprint() == catalog.get_release(release).fingerprints[kind]
    assert snap.has_table("alembic_version")


def test_known_schema_features_by_release() -> None:
    """Facts from the upstream migrations, checked against what the capture produced."""

    def has_col(rel: str, kind: str, table: str, col: str) -> bool:
        snap = catalog.catalog_snapshot(rel, kind)
        return snap.has_table(table) and snap.table(table).has_column(col)

    assert not has_col("yoga", "nova", "block_device_mapping", "encrypted")
    assert has_col("zed", "nova", "block_device_mapping", "encrypted")
    assert not has_col("2023.1", "nova", "instances", "compute_id")
    assert has_col("2023.2", "nova", "instances", "compute_id")
    assert has_col("2023.2", "nova", "migrations", "dest_compute_id")
    assert not catalog.catalog_snapshot("2023.2", "nova").has_table("share_mapping")
    assert catalog.catalog_snapshot("2024.1", "nova").has_table("share_mapping")
    assert not has_col("2024.2", "nova", "console_auth_tokens", "tls_port")
    assert has_col("2025.1", "nova", "console_auth_tokens", "tls_port")
    assert has_col("xena", "cinder", "volumes", "use_quota")
    assert has_col("xena", "cinder", "quota_usages", "race_preventer")
    assert catalog.catalog_snapshot("xena", "placement").has_table("consumer_types")
    assert has_col("xena", "nova_api", "build_requests", "vm_state")
    assert not has_col("yoga", "nova_api", "build_requests", "vm_state")
    # 2024.1 made volumes.use_quota NOT NULL
    assert catalog.catalog_snapshot("2023.2", "cinder").table("volumes").column("use_quota").nullable
    assert not catalog.catalog_snapshot("2024.1", "cinder").table("volumes").column("use_quota").nullable


def test_instance_foreign_keys_as_upstream_declares() -> None:
    snap = catalog.catalog_snapshot("2024.1", "nova")
    children = {t.name for t, fk in snap.referencing("instances") if fk.ref_columns == ("uuid",)}
    assert children == {
        "block_device_mapping",
        "consoles",
        "fixed_ips",
        "instance_actions",
        "instance_extra",
        "instance_faults",
        "instance_info_caches",
        "instance_metadata",
        "instance_system_metadata",
        "migrations",
        "security_group_instance_association",
        "virtual_interfaces",
        "share_mapping",
    }


def test_compute_service_versions_distinguish_shared_heads() -> None:
    rels = {r.name: r for r in catalog.releases()}
    assert rels["2025.1"].heads["nova"] == rels["2025.2"].heads["nova"] == rels["2026.1"].heads["nova"]
    assert len({rels[n].compute_service_version for n in ("2025.1", "2025.2", "2026.1")}) == 3


def test_unknown_release_is_one_clear_error() -> None:
    with pytest.raises(SchemaProblem, match="unknown release 'folsom'"):
        catalog.get_release("folsom")


def test_codenames_resolve() -> None:
    assert catalog.get_release("Antelope").name == "2023.1"


def test_catalog_holds_what_each_release_own_db_sync_wrote() -> None:
    """Cinder before 2024.1 inserted a `consistencygroups` default quota class (its initial migration was
    edited later): only each release's own db sync reproduces that, and the catalog is captured that way."""
    import json
    from importlib import resources

    index = json.loads((resources.files("generator.catalog") / "data" / "index.json").read_text())
    for name, entry in index["releases"].items():
        assert entry["capture"]["mode"] == "db-sync", name
        assert entry["capture"]["ran"]["nova"] == entry["packages"]["nova"], name
    old = catalog.catalog_ddl("2023.2", "cinder")
    new = catalog.catalog_ddl("2024.1", "cinder")
    assert "'consistencygroups'" in old
    assert "'consistencygroups'" not in new
