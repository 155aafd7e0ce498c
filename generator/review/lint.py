"""`fixpack lint BUNDLE`: the generation-time lint, run again on a bundle as it is on disk.

Same function (`generator.lint.lint_files`), same rules, same caches; the
schema is the one the bundle recorded (`data/schema.json`: every table its SQL
names, as at generation) and the target ids come from the manifest, so a
reviewer gets exactly the findings generation would have given for these
bytes — including any hand edit made since.
"""

from __future__ import annotations

from generator.lint import LintInput, lint_files
from generator.lint.report import LintReport
from generator.review.bundle import Bundle


def bundle_inputs(bundle: Bundle) -> list[LintInput]:
    """Every SQL and shell step that exists in the bundle (captured rollbacks included once written),
    plus any other shell script in it."""
    produced = bundle.produced_at_run_time
    inputs: dict[str, LintInput] = {}
    for step in bundle.steps:
        rel = step["file"]
        if step["kind"] not in ("sql", "shell") or (rel in produced and not bundle.file(rel).is_file()):
            continue  # a captured rollback is linted like any SQL file once its capture wrote it
        role = bundle.role_of(step) if step["kind"] == "sql" else None
        inputs[rel] = LintInput(rel, bundle.read_text(rel), step["kind"], role)
    for rel in bundle.manifest["files"]:
        if rel.endswith(".sh") and rel not in inputs:
            inputs[rel] = LintInput(rel, bundle.read_text(rel), "shell")
    return list(inputs.values())


def lint_bundle(bundle: Bundle, *, use_cache: bool = True) -> LintReport:
    return lint_files(bundle_inputs(bundle), bundle.recorded_schemas, bundle.target_ids, use_cache=use_cache)
