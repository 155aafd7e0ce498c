"""Load Jinja templates from `templates/` wherever fixpack is installed.

Source checkout and editable install: `<repo>/templates` next to the package.
Installed wheel: the build copies `templates/` into `generator/templates`.
Jinja only lays out files; every value it receives was validated and quoted
before rendering (SQL by the SQL renderer, shell by `hostside.validate`).
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from generator.errors import FixpackError

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates"):
        if (candidate / "shell").is_dir():
            return candidate
    raise FixpackError("fixpack templates are missing from this installation")


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
