"""Benchmark: `fixpack lint` on existing bundles, with a cold and a warm lint cache.

    python bench/lint_bench.py BUNDLE [BUNDLE ...]

For each bundle: lines of SQL and shell, distinct sqlfluff statement shapes
and shellcheck script shapes, and the lint wall time with an empty cache
(a temporary FIXPACK_CACHE_DIR), then again with the cache that run filled.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.review.bundle import Bundle
from generator.review.lint import bundle_inputs, lint_bundle


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit(__doc__)
    for path in paths:
        bundle = Bundle.open(path)
        inputs = bundle_inputs(bundle)
        sql_lines = sum(i.text.count("\n") for i in inputs if i.kind == "sql")
        sh_lines = sum(i.text.count("\n") for i in inputs if i.kind == "shell")
        cache = tempfile.mkdtemp(prefix="fixpack-lint-bench-")
        os.environ["FIXPACK_CACHE_DIR"] = cache
        try:
            print(f"{bundle.bundle_id}: {len(inputs)} files, {sql_lines} SQL lines, {sh_lines} shell lines")
            for label in ("cold", "warm"):
                t0 = time.perf_counter()
                report = lint_bundle(bundle)
                wall = time.perf_counter() - t0
                s = report.seconds
                verdict = "clean" if report.passed else "FINDINGS"
                print(
                    f"  {label}: {wall:6.2f}s (structure {s['structure']:.2f}s, "
                    f"sqlfluff {s['sqlfluff']:.2f}s on {report.shapes} shapes, "
                    f"{report.shapes_from_cache} cached; "
                    f"shellcheck {report.scripts_checked} run(s) for {report.scripts} scripts, "
                    f"{report.scripts_from_cache} cached, {s['shellcheck_wait']:.2f}s left to wait) {verdict}"
                )
        finally:
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
