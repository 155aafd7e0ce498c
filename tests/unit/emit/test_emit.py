"""scan --emit's pure parts: the repair registry covers every check, and the texts it writes
(controller.sh, README.md, index.json) keep hostile finding values inert."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from generator.emit import EmitResult, exit_code
from generator.emit.index import (
    BUNDLE,
    CONTROLLER,
    NO_CMD,
    REFUSED,
    Placement,
    placed,
    render_controller,
    render_index,
    render_readme,
)
from generator.emit.routes import API, CHOICE, FIXPACK_REPAIRS, PENDING, REPAIRS, route
from generator.scan import suggest
from generator.scan.model import Finding
from generator.scan.registry import CHECK_IDS

from ...hostile import ATTACHMENT_ID, FAKE_STEP, fenced_lines, headings, inline_code

HOSTILE = ("it's $(touch INJECTED)`id`;#", ATTACHMENT_ID, 'a"b\\c d|e', "x' ; rm -rf / ; '")


def finding(check: str, uuid: str, suggested: str, **details: object) -> Finding:
    return Finding(check, uuid, "cinder", details, suggested)


def test_every_check_has_a_repair_entry():
    assert list(REPAIRS) == list(CHECK_IDS)
    kinds = {r.kind for r in REPAIRS.values()}
    bundles = {"volume-detach-from-nova", "quota-sync", "allocation-delete", "mapping-delete"}
    assert {API, CHOICE} | bundles == kinds
    for repair in [*REPAIRS.values(), *FIXPACK_REPAIRS.values()]:
        assert (repair.build is None) == (repair.kind in (API, PENDING, CHOICE))
        assert (repair.kind in (PENDING, CHOICE)) == bool(repair.why)
    # the three nova_api checks share one kind: one mapping-delete bundle for all their uuids
    assert REPAIRS["mapping-without-instance"] is REPAIRS["build-request-stale"]
    assert REPAIRS["allocation-orphaned"].note  # the README names Placement's own delete


def test_a_fixpack_suggestion_of_an_api_check_goes_to_its_bundle_kind():
    stale = suggest.stale_after(dt.timedelta(minutes=30))
    wrong_cell = finding(
        "instance-without-mapping", "u'1", suggest.fixpack("mapping", "u'1", "delete", *stale)
    )
    no_mapping = finding("instance-without-mapping", "u2", suggest.map_instances("c1"))
    assert route(wrong_cell) is REPAIRS["mapping-without-instance"]
    tricky = finding("instance-without-mapping", "u --op x", suggest.fixpack("mapping", "u --op x", "delete"))
    assert route(tricky) is REPAIRS["mapping-without-instance"]  # the id is one word, whatever it holds
    assert route(no_mapping).kind == API
    # a fixpack command --emit builds no bundle for, or naming another id: pending, listed
    for other in (
        finding("instance-without-mapping", "u3", suggest.fixpack("vm", "u3", "soft-delete")),
        finding("instance-without-mapping", "u5", suggest.fixpack("mapping", "u6", "delete")),
        finding("instance-without-mapping", "u7", "fixpack mapping 'u7"),
    ):
        assert route(other).kind == PENDING and route(other).why, other
    assert route(finding("some-future-check", "u", "x")).kind == PENDING


def test_readme_shows_a_bundle_findings_api_alternative_inertly():
    consumer = HOSTILE[0]
    orphan = finding(
        "allocation-orphaned", consumer, suggest.fixpack("allocation", consumer, "delete"),
        alternative=suggest.delete_allocations(consumer),
    )  # fmt: skip
    hidden = finding("allocation-orphaned", "c\n", "x", alternative="# no command: control characters")
    placements = [
        Placement(orphan, BUNDLE, "allocation-delete/b1"),
        Placement(hidden, BUNDLE, "allocation-delete/b1"),
    ]
    notes = {"allocation-delete": REPAIRS["allocation-orphaned"].note}
    readme = render_readme(placements, stale_after="2h", skipped={}, pending_why={}, bundle_notes=notes)
    rows = [ln for ln in readme.splitlines() if ln.startswith("| `")]
    assert len(rows) == 2 and "or the API" in rows[0] and "or the API" not in rows[1]
    assert all(line.count(" | ") == 2 for line in rows)  # the hostile value split no cell
    assert "   - `allocation-delete/`: Placement's own" in readme
    assert fenced_lines(readme) == []


def test_a_value_with_control_characters_has_no_command():
    f = finding("volume-stuck", "snap\nx", suggest.reset_snapshot("snap\nx", "error"))
    p = placed(f, API)
    assert p.where == NO_CMD and "refusing to put" in p.detail


def _placements() -> list[Placement]:
    out = [
        placed(finding("volume-attached-to-deleted-instance", v, suggest.delete_attachment(v)), API)
        for v in HOSTILE
    ]
    out.append(
        placed(finding("provider-without-compute-node", HOSTILE[0], suggest.delete_provider(HOSTILE[0])), API)
    )
    cell = "c'1$(x)"
    out += [
        placed(finding("instance-without-mapping", f"i{n}", suggest.map_instances(cell)), API) for n in (1, 2)
    ]
    out.append(
        Placement(finding("bdm-without-volume", FAKE_STEP, "x"), REFUSED, f"volume {FAKE_STEP}: refusing")
    )
    out.append(Placement(finding("cinder-quota-drift", "p|1", "x"), BUNDLE, "quota-sync/b`1"))
    out.append(
        placed(
            finding("mapping-without-instance", HOSTILE[1], suggest.fixpack("mapping", HOSTILE[1], "delete")),
            PENDING,
        )
    )
    miss = finding(
        "instance-on-missing-host", "u", suggest.fixpack("vm", "u", "rehost", "--to-host", "HOST"),
        alternative=suggest.fixpack("vm", "u", "soft-delete"), host=FAKE_STEP,
    )  # fmt: skip
    out.append(placed(miss, CHOICE))
    out.append(placed(finding("volume-stuck", "s\x1b[2J", suggest.reset_snapshot("s\x1b[2J", "error")), API))
    return out


def test_controller_passes_bash_n_and_shellcheck_and_each_value_is_one_word(tmp_path: Path):
    placements = _placements()
    text, lines = render_controller(placements, "0.0")
    script = tmp_path / "controller.sh"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)
    shellcheck = Path(sys.prefix) / "bin" / "shellcheck"
    lint = subprocess.run([str(shellcheck), "--shell=bash", "--severity=style", str(script)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    run_lines = [ln for ln in text.splitlines() if ln.startswith("run ")]
    # 4 attachments, 1 provider, the two map_instances of one cell on one line; no line for `s\x1b`
    assert len(run_lines) == len(lines) == 6
    for command, number in lines.items():
        assert text.splitlines()[number - 1] == f"run {command}"
    words = [shlex.split(ln)[-1] for ln in run_lines]
    assert words == [*HOSTILE, HOSTILE[0], "c'1$(x)"]
    assert "\x1b" not in text and "\nred" not in text
    dry = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["controller.sh"]
    assert dry.stdout.count("would run:") == 6
    bad = subprocess.run(["bash", str(script), "--now"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_readme_structure_holds_with_hostile_values():
    placements = _placements()
    readme = render_readme(placements, stale_after="2h", skipped={"volume-stuck": FAKE_STEP},
                           pending_why={"mapping-without-instance": "not yet"})  # fmt: skip
    assert headings(readme) == ["fixpack scan --emit", "What to run", "Every finding", "Choices"]
    rows = [ln for ln in readme.splitlines() if ln.startswith("| `")]
    assert len(rows) == len(placements)
    assert fenced_lines(readme) == [] and "INJECTED STEP" in readme  # as text, never a heading or a fence
    assert "--stale-after 2h" in readme
    spans = inline_code(readme)
    assert suggest.fixpack("vm", "u", "soft-delete") in spans


def test_index_json_is_ascii_and_complete():
    placements = _placements()
    data = json.loads(render_index(placements, stale_after_seconds=60))
    assert len(data["findings"]) == len(placements) and data["stale_after_seconds"] == 60
    assert render_index(placements, stale_after_seconds=60).isascii()


@pytest.mark.parametrize(
    ("scan_code", "refused", "expected"),
    [(0, False, 0), (1, False, 1), (1, True, 5), (3, True, 3), (3, False, 3)],
)
def test_exit_code(scan_code: int, refused: bool, expected: int):
    f = finding("bdm-without-volume", "v", "x")
    placement = Placement(f, REFUSED if refused else CONTROLLER, "line")
    assert exit_code(scan_code, EmitResult(Path("d"), (placement,))) == expected
    assert exit_code(scan_code, None) == scan_code
