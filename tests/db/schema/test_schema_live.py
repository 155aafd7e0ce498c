"""Live introspection against a real server loaded from the catalog."""

from __future__ import annotations

import pytest

from generator import catalog
from generator.catalog.detect import detect
from generator.connect.session import Session
from generator.schema.diff import diff_snapshots
from generator.schema.live import snapshot_from_session
from generator.schema.model import DATABASE_KINDS
from tests.conftest import ALL_RELEASES

pytestmark = pytest.mark.db

ROLE_OF = {"nova": "nova", "nova_api": "nova_api", "placement": "placement", "cinder": "cinder"}


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_live_snapshot_equals_offline_snapshot(make_deployment, release: str) -> None:
    dep = make_deployment(release)
    for kind in DATABASE_KINDS:
        with Session(dep.url(ROLE_OF[kind]), label=kind) as session:
            live = snapshot_from_session(session)
            rounds = session.counter.count
        offline = catalog.catalog_snapshot(release, kind)
        assert diff_snapshots(offline, live) == []
        assert live == offline
        assert live.fingerprint() == offline.fingerprint()
        # a handful of round trips per database, not one per table
        assert rounds <= 6 < len(live.tables)


@pytest.mark.parametrize("release", ALL_RELEASES)
def test_detect_names_the_catalog_release(make_deployment, release: str) -> None:
    dep = make_deployment(release)
    rel = catalog.get_release(release)
    for kind in DATABASE_KINDS:
        with Session(dep.url(ROLE_OF[kind]), label=kind) as session:
            det = detect(session)
        assert det.kind == kind
        assert release in det.candidates
        assert det.confidence in ("exact", "ambiguous")
        assert det.markers.alembic == (rel.heads[kind],)


def test_detect_uses_compute_service_version(make_deployment) -> None:
    dep = make_deployment("2025.2")
    dep.execute(
        "nova",
        "INSERT INTO services (created_at, host, `binary`, topic, report_count, "
        "disabled, deleted, version, uuid) VALUES (UTC_TIMESTAMP(), 'cmp1', "
        "'nova-compute', 'compute', 1, 0, 0, 70, UUID())",
    )
    with Session(dep.url("nova"), label="nova") as session:
        det = detect(session)
    assert det.candidates == ("2025.2",)
    assert det.confidence == "narrowed"


def test_diff_reports_drift(make_deployment) -> None:
    dep = make_deployment("2024.1")
    dep.execute("nova", "ALTER TABLE instances ADD COLUMN site_note varchar(20) NULL")
    dep.execute("nova", "CREATE INDEX ops_added_idx ON instances (display_name)")
    dep.execute("nova", "ALTER TABLE instance_faults MODIFY details mediumtext NOT NULL")
    dep.execute("nova", "DROP TABLE shadow_task_log")
    with Session(dep.url("nova"), label="nova") as session:
        live = snapshot_from_session(session)
    diffs = diff_snapshots(catalog.catalog_snapshot("2024.1", "nova"), live)
    kinds = {(d.kind, d.table, d.item) for d in diffs}
    assert ("extra_column", "instances", "site_note") in kinds
    assert ("extra_index", "instances", "ops_added_idx") in kinds
    assert ("column_changed", "instance_faults", "details") in kinds
    assert ("missing_table", "shadow_task_log", "") in kinds
    assert len(diffs) == 4
