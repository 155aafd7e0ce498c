"""Shipped shellcheck verdicts (generator/lint/script_shapes.py): data abstracted, template kept."""

from __future__ import annotations

from generator.lint import script_shapes, shellcheck
from generator.lint.script_shapes import shipping_shape
from generator.plan.model import ComputeCleanup, Vif, VolumeConnection
from generator.render.shell import render_compute_script

P1, P2 = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "f6e315dd-d984-4ff1-9705-b778cd0153aa"
V1, V2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def _vif(port: str) -> Vif:
    return Vif(port, f"tap{port[:11]}", "ovs", "br-int", "fa:16:3e:00:00:02")


def _iscsi(volume: str, portal: str) -> VolumeConnection:
    return VolumeConnection(volume, "iscsi", ((f"iqn.2010-10.org.openstack:volume-{volume}", portal, 1),))


def _script(host: str, uuid: str, vifs: tuple[Vif, ...], volumes: tuple[VolumeConnection, ...]) -> str:
    cleanup = ComputeCleanup(host, uuid, "instance-0000002a", vifs, volumes)
    return render_compute_script(
        cleanup, bundle_id=f"20260102T030405Z-vm-purge-{uuid[:8]}", fixpack_version="0.1.0"
    )


def test_the_targets_values_do_not_change_a_scripts_shipping_shape() -> None:
    one = _script(
        "cmp-01", "0a1b2c3d-0000-4000-8000-00112233aabb", (_vif(P1),), (_iscsi(V1, "10.0.0.5:3260"),)
    )
    other = _script("compute-17.example", "9f8e7d6c-0000-4000-8000-00112233aabb", (_vif(P2),),
                    (_iscsi(V2, "192.0.2.10:3260"),))  # fmt: skip
    assert one != other
    assert shipping_shape(one) == shipping_shape(other)
    assert shipping_shape(one) != shipping_shape(
        _script("cmp-01", "0a1b2c3d-0000-4000-8000-00112233aabb", (), ())
    )


def test_another_vif_of_the_same_kind_folds_into_the_same_shape() -> None:
    uuid = "0a1b2c3d-0000-4000-8000-00112233aabb"
    assert shipping_shape(_script("cmp-01", uuid, (_vif(P1), _vif(P2)), ())) == shipping_shape(
        _script("cmp-01", uuid, (_vif(P1),), ())
    )


def test_a_word_that_is_not_a_plain_value_is_kept() -> None:
    text = "#!/bin/bash\nreadonly A='x$y'\nf() {\n    :\n}\nmain() {\n    f 'it'\"'\"'s' plain\n}\nmain\n"
    shaped = shipping_shape(text).splitlines()
    assert "readonly A='x$y'" in shaped  # an expansion-looking word: shellcheck may have a say
    assert "    f 'it'\"'\"'s' plain" in shaped
    assert "    f v v" in shipping_shape(text.replace("'it'\"'\"'s'", "'its'")).splitlines()


def test_a_script_whose_shape_is_shipped_clean_is_not_run(monkeypatch) -> None:
    text = _script("cmp-01", "0a1b2c3d-0000-4000-8000-00112233aabb", (_vif(P1),), ())
    monkeypatch.setattr(shellcheck, "find_shellcheck", lambda: "/nonexistent/shellcheck")  # never started
    monkeypatch.setattr(shellcheck, "shellcheck_version", lambda _binary: "9.9")
    salt = shellcheck.verdict_salt("9.9")
    shipped = frozenset({script_shapes.shipping_key(salt, text)})
    monkeypatch.setattr(script_shapes, "clean_keys", lambda s: shipped if s == salt else frozenset())
    run = shellcheck.start({"shell/compute.sh": text})
    assert run.checked == 0 and run.cached == 1 and run.results == {"shell/compute.sh": []}
    assert run.finish() == ([], "9.9")
