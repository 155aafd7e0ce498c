"""Run sqlfluff on distinct statement shapes, with an on-disk cache and a process pool.

Cache key: sqlfluff version + configuration text + shape, so upgrading
sqlfluff or changing the configuration re-lints everything. Verdicts shipped in
the wheel (`shipped.py`, every shape the renderer produces per catalog release)
are looked up first; the user cache lives in
`$FIXPACK_CACHE_DIR/lint` (default `~/.cache/fixpack/lint`); a missing or
unwritable cache only costs time.
"""

from __future__ import annotations

import os
from importlib import metadata, resources
from pathlib import Path

from generator.lint import cache, shipped

# LT05 is checked exactly by FX005 on the real text. LT09 (one select target per line) is the
# layout the compact rendering gives up: short targets (a pre-image's `value AS `column``) are
# packed onto lines up to the limit (sqlgen/dialect.py `fill`), so a row reads in a few lines.
SHAPE_EXCLUDED_RULES = "layout"


def config_text() -> str:
    return (resources.files("generator.lint") / "sqlfluff.cfg").read_text()


def sqlfluff_version() -> str:
    """From the package metadata: importing sqlfluff costs ~1 s, which a warm cache never needs."""
    try:
        return metadata.version("sqlfluff")
    except metadata.PackageNotFoundError:
        import sqlfluff

        return sqlfluff.__version__


def cache_dir() -> Path:
    return cache.cache_root() / "lint"


def cache_salt() -> str:
    return f"sqlfluff {sqlfluff_version()}\n{config_text()}\nexclude {SHAPE_EXCLUDED_RULES}"


_LINTER = None


def _linter():  # one per worker process
    global _LINTER
    if _LINTER is None:
        from sqlfluff.core import FluffConfig, Linter

        config = FluffConfig.from_string(config_text(), overrides={"exclude_rules": SHAPE_EXCLUDED_RULES})
        _LINTER = Linter(config=config)
    return _LINTER


def lint_shape(shape: str) -> list[dict]:
    linted = _linter().lint_string(shape)
    out = []
    for v in linted.get_violations():
        out.append({"code": v.rule_code(), "line": v.line_no, "message": v.desc()})
    return out


def lint_shapes(
    shapes: dict[str, str], *, use_cache: bool = True, workers: int | None = None
) -> tuple[dict[str, list[dict]], int]:
    """{key: shape} -> ({key: violations}, number served from cache)."""
    directory = cache_dir()
    results: dict[str, list[dict]] = {}
    todo: list[tuple[str, str]] = []
    known = shipped.verdicts(cache_salt()) if use_cache else {}
    for key, shape in shapes.items():
        cached = known.get(key)
        if cached is None and use_cache:
            cached = cache.read(directory, key)
        if cached is None:
            todo.append((key, shape))
        else:
            results[key] = cached
    cached_count = len(results)
    if todo:
        workers = workers or min(len(todo), os.cpu_count() or 1)
        if workers > 1 and len(todo) > 4:
            from concurrent.futures import ProcessPoolExecutor  # only when there is sqlfluff work

            with ProcessPoolExecutor(max_workers=workers) as pool:
                found = list(
                    pool.map(lint_shape, [s for _, s in todo], chunksize=max(1, len(todo) // (4 * workers)))
                )
        else:
            found = [lint_shape(s) for _, s in todo]
        for (key, _), violations in zip(todo, found, strict=True):
            results[key] = violations
            if use_cache:
                cache.write(directory, key, violations)
    return results, cached_count
