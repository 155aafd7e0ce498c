"""Property tests: generated hostile database values through the real planners and renderers.

Each example plants one generated hostile value (shell metacharacters, backticks and
fences, `#` headings, newlines, `\\r`, ESC sequences, bidi overrides, NUL, quotes,
backslashes, `*/`, unicode) in the columns the red-team pass found reaching a shell, a
runbook, a SQL comment or the terminal, runs the real planner on hand-built facts
(tests/hand_facts.py, no database), renders the bundle's SQL and runbook once, and reads
them back as the operator's tools do:

* shell — the runbook's Run lines and API hints parse (`shlex.split`) to exactly the
  intended argv; a value that cannot be shown exactly (control/format characters) is
  refused at generation (`UnsafeValue`) instead;
* Markdown — a CommonMark parser (markdown-it-py) sees the same blocks (headings, fences,
  lists, tables) and the same inline markup as with a harmless value;
* SQL comments — every `--` line is one line without control characters or `*/`, and no
  statement line appeared or vanished;
* terminal — the CLI's summary (`found:`/`apply:`/`warning:`) prints no control character
  and one line per finding;
* names — a compute host, which names a script file, is refused unless it is a plain name.

Every example exercises each of its destinations, so the per-destination counts printed by
`test_example_counts` are the examples run (max_examples=1000 per test).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from generator.cli.common import print_result
from generator.errors import TargetProblem
from generator.lint.report import LintReport
from generator.pipeline import BundleResult
from generator.plan.model import ComputeCleanup, Plan
from generator.quoting import UnsafeValue, identifier, md_code, md_text, terminal
from generator.render.shell import render_compute_script, script_name
from generator.sqlgen.sqltext import statements
from tests.hand_facts import INSTANCE, render, vm_plan, volume_plan
from tests.hostile import argv, fenced_lines, inline_code
from tests.hostile import structure as block_structure

EXAMPLES = 1000
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # a failing example is reported as generated: shrinking through the renderers takes too long
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
COUNTS: Counter[str] = Counter()  # examples per destination (and per shell outcome)

PIECES = [
    "$(touch X)", "`id`", "${IFS}", ";", "&&", "|", "||", ">", "<", "&", "'", '"', "\\", "\\'", "*", "?",
    "~", "!", "#", "# H", "## INJECTED STEP", "```", "~~~", "````sh", "\n", "\r", "\r\n", "\n\n", "\t",
    "\x00", "\x07", "\x08", "\x1b[2J", "\x1b]0;title\x07", "\x1b[8m", "\x9b31m", "\x7f", "\u202e", "\u2066",
    "\u200b", "\u2028", "\u2029", "\ufeff", "\x85", "*/", "/*", "--", "-- ", "<script>", "[x](http://e)",
    "![i](x)", "<!--", "-->", "|a|b|", "---", "===", "1. ", "> ", "- ", "+ ", "    ", "&amp;", "$x$",
    "_", "__a__", "**b**", "😀", "\U0001f4a9", "é", "\u00c3\u00a9", "\ufffd", "日本", "x", "cmp-01",
]  # fmt: skip
_any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)  # no lone surrogates
hostile = (
    st.lists(st.one_of(st.sampled_from(PIECES), _any_text), min_size=1, max_size=10)
    .map("".join)
    .filter(lambda v: v.strip() != "")
)
_MD = MarkdownIt("commonmark").enable("table")


def _unsafe(value: str) -> bool:
    """What quoting.shell_arg refuses: control, format, separator, unassigned or private-use characters."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") for ch in value)


# Words that can be shown exactly on a command line, and still everything a shell interprets.
shell_words = (
    st.lists(
        st.one_of(
            st.sampled_from([p for p in PIECES if not _unsafe(p)]),
            st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
                    max_size=6),
        ),
        min_size=1,
        max_size=10,
    )
    .map("".join)
    .filter(lambda v: v.strip() != "")
)  # fmt: skip


def _control_free(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n" for ch in text)


def _inline_shape(readme: str) -> list[list[str]]:
    """Per inline block, the sequence of non-text tokens (emphasis, links, code spans, html, breaks)."""
    inlines = [t for t in _MD.parse(readme) if t.type == "inline"]
    return [[c.type for c in t.children or () if c.type != "text"] for t in inlines]


def _headings(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("#")]


def _fences(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.lstrip().startswith(("```", "~~~"))]


def _code_lines(files) -> list[int]:
    """Statements per file, as the mysql client splits them: a value breaking out of a comment or a
    literal adds or merges statements. (Not lines: a statement wraps at 120 characters, so a longer
    value may take one more line.)"""
    return [sum(1 for _ in statements(f.text)) for f in files]


_BASE: dict[str, tuple] = {}


def _baseline(kind: str, plan: Plan) -> tuple:
    """The bundle rendered with a harmless value in the same columns: what must not change."""
    if kind not in _BASE:
        files, readme = render(plan)
        _BASE[kind] = (block_structure(readme), _inline_shape(readme), readme, _code_lines(files))
    return _BASE[kind]


def check_markdown(readme: str, base: tuple) -> None:
    blocks, inline, base_readme, _ = base
    assert block_structure(readme) == blocks
    assert _inline_shape(readme) == inline
    assert _headings(readme) == _headings(base_readme)  # the same headings, word for word
    assert len(_fences(readme)) == len(_fences(base_readme))
    assert _control_free(readme)


def check_sql_comments(files, base: tuple) -> None:
    assert _code_lines(files) == base[3]  # no comment broke into a statement line
    for f in files:
        for line in f.text.splitlines():
            assert _control_free(line), (f.path, line)
            if line.startswith("--"):
                assert "*/" not in line and "/*" not in line, (f.path, line)


def check_terminal(plan: Plan) -> None:
    result = BundleResult(
        path=Path("out/bundle"),
        plan=plan,
        manifest={"steps": [{"phase": "apply", "file": "sql/2.sql", "purpose": plan.databases[0].label}]},
        lint=LintReport((), ()),
    )
    with CliRunner().isolation(color=True) as (out, _err, *_):  # color: click strips nothing
        print_result(result)
        printed = out.getvalue().decode()
    assert _control_free(printed)
    lines = printed.splitlines()
    assert len([ln for ln in lines if ln.startswith("  found: ")]) == len(plan.findings)
    assert len([ln for ln in lines if ln.startswith("  warning: ")]) == len(plan.warnings)
    assert len(lines) == 6 + len(plan.findings) + len(
        plan.warnings
    )  # bundle, target, apply, lint, digest, next


def check_shell(readme: str, value: str) -> None:
    """The attachment id, attached volume id, cell0 host and cell database name: one exact argument each."""
    hints = [argv(c) for c in inline_code(readme) if c.startswith(("cinder ", "openstack "))]
    assert ["cinder", "attachment-delete", value] in hints
    assert ["openstack", "server", "remove", "volume", INSTANCE, value] in hints
    assert ["openstack", "compute", "service", "list", "--host", value, "--service", "nova-compute"] in hints
    runs = [ln for ln in fenced_lines(readme) if ".sql" in ln]
    assert runs
    for line in runs:  # the database name lives in the option file now: nothing of the value on the line
        words = argv(line)
        assert words[0] == "mysql" and words[-2] == "<" and words[-1].startswith("sql/"), words
        assert words[1].startswith("--defaults-extra-file=~/fixpack-") and words[2:-2] == [
            "--loose-sandbox",
            "--batch",
        ]
    # the example option file shows a database name only when it is a plain one, else a placeholder
    names = [ln.split("=", 1)[1].strip() for ln in fenced_lines(readme) if ln.startswith("database")]
    assert names and all(n == "DATABASE" or n.replace("_", "").replace("-", "").isalnum() for n in names), (
        names
    )


def _vm_md(value: str) -> dict:
    return {
        "vm_state": value, "task_state": value, "node": value, "display_name": value, "project_id": value,
        "cell_name": value,
    }  # fmt: skip


def _vm_shell(value: str) -> dict:
    return {"database": value, "attachment_id": value, "attached_volume": value, "host": value}


@pytest.mark.slow
@SETTINGS
@given(value=hostile, word=shell_words)
def test_vm_bundle_values_reach_every_destination_quoted(value: str, word: str) -> None:
    """`value` in every VM column at once, `word` in the shell positions (attachment id, attached volume,
    cell0 host, cell database name); `value` there too is refused when it cannot be shown exactly."""
    base = _baseline("vm", vm_plan(**_vm_md("x"), **_vm_shell("x")))
    if _unsafe(value):
        with pytest.raises(UnsafeValue) as refused:
            render(vm_plan(**_vm_md(value), **_vm_shell(value)))
        assert "\n" not in str(refused.value) and _control_free(str(refused.value))
        COUNTS["shell: refused (control/format characters)"] += 1
    plan = vm_plan(**_vm_md(value), **_vm_shell(word))
    files, readme = render(plan)
    check_shell(readme, word)
    COUNTS["shell"] += 1
    check_markdown(readme, base)
    COUNTS["markdown"] += 1
    check_sql_comments(files, base)
    COUNTS["sql comment"] += 1
    check_terminal(plan)
    COUNTS["terminal"] += 1


def _volume(value: str) -> dict:
    return {
        "status": value, "migration_status": value, "host": value, "project_id": value, "type_name": value,
        "attached_host": value, "mountpoint": value, "display_name": value,
    }  # fmt: skip


@pytest.mark.slow
@SETTINGS
@given(value=hostile)
def test_volume_bundle_values_reach_every_destination_quoted(value: str) -> None:
    """volumes.status/migration_status/host, volume_types.name, project_id, attached_host, mountpoint."""
    base = _baseline("volume", volume_plan(**_volume("x")))
    try:
        plan = volume_plan(**_volume(value))
    except TargetProblem:  # a status the refusals know (the CLI prints it through terminal())
        COUNTS["volume: refused by a precondition"] += 1
        return
    files, readme = render(plan)
    check_markdown(readme, base)
    COUNTS["markdown"] += 1
    check_sql_comments(files, base)
    COUNTS["sql comment"] += 1
    check_terminal(plan)
    COUNTS["terminal"] += 1


@SETTINGS
@given(value=hostile)
def test_names_are_refused_not_quoted(value: str) -> None:
    """A compute host names a script file and a `host:` target: a hostile one is refused, never quoted."""
    COUNTS["name"] += 1
    try:
        identifier(value, "compute host")
    except UnsafeValue as exc:
        assert "\n" not in str(exc) and _control_free(str(exc))
    else:
        COUNTS["name: plain, accepted"] += 1
        return
    COUNTS["name: refused"] += 1
    with pytest.raises(TargetProblem) as refused:
        script_name(value)
    assert "\n" not in str(refused.value)
    cleanup = ComputeCleanup(host=value, instance_uuid=INSTANCE, domain_name="instance-00000007")
    with pytest.raises(TargetProblem):
        render_compute_script(cleanup, bundle_id="b1", fixpack_version="0.1.0")


def _inline(src: str) -> list:
    inlines = [t for t in _MD.parse(src) if t.type == "inline"]
    assert len(inlines) == 1, src  # one paragraph: no block was opened
    return inlines[0].children or []


@SETTINGS
@given(value=hostile)
def test_md_text_shows_the_value_as_plain_text(value: str) -> None:
    """Rendered, md_text(value) is exactly terminal(value) as plain text: no markup, one paragraph."""
    COUNTS["md_text plain text"] += 1
    children = _inline("- " + md_text(value))
    assert {c.type for c in children} <= {"text"}, [c.type for c in children]
    # trailing whitespace ends a list item's line, where renderers drop it
    assert "".join(c.content for c in children).rstrip() == terminal(value).rstrip()


@SETTINGS
@given(value=hostile)
def test_md_code_shows_the_value_exactly(value: str) -> None:
    """Rendered, md_code(value) is one code span holding the value (escaped only if it has controls)."""
    COUNTS["md_code exact"] += 1
    children = _inline("x " + md_code(value) + " y")
    spans = [c.content for c in children if c.type == "code_inline"]
    assert spans == [terminal(value) if _unsafe(value) else value]


def test_example_counts() -> None:
    """Last in the module: print the examples per destination (pytest -s); each got its thousand."""
    print("\nhypothesis examples per destination:", dict(sorted(COUNTS.items())))
    if COUNTS:  # the module ran (not only this test)
        for destination in ("shell", "markdown", "sql comment", "terminal", "name"):
            assert COUNTS[destination] >= EXAMPLES, (destination, COUNTS[destination])
