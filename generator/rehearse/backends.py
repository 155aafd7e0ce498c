"""Where a rehearsal runs: `--backend auto|docker|local|env|url:URL`.

* `docker` — a testcontainers MariaDB/MySQL container (`--image`, `$FIXPACK_DOCKER_IMAGE`,
  else the official image), removed after;
* `local`  — a private server started from the installed mariadbd/mysqld, removed after;
* `env`    — the server in `$FIXPACK_TEST_DB_URL` (CI service containers);
* `url:URL` — an existing scratch server; the rehearsal creates uniquely named
  databases there and drops them after, and never touches other databases;
* `auto`   — env, else docker when an engine answers, else local.

Never point `url:` at production: a rehearsal creates, fills and drops
databases there.
"""

from __future__ import annotations

from dataclasses import replace

from generator.connect.urls import parse_url
from generator.errors import FixpackError
from generator.scratch.provider import (
    ProvidedServer,
    docker_engine_available,
    provide,
    start_docker,
)

CHOICES = ("auto", "docker", "local", "env", "url:URL")


def open_backend(spec: str, *, image: str | None = None) -> ProvidedServer:
    """Start (or point at) the scratch server `spec` names; FixpackError with the reason otherwise."""
    spec = (spec or "auto").strip()
    if spec.startswith("url:"):
        url = parse_url(spec[4:], what="--backend url:")
        return ProvidedServer(replace(url, database=None), "url", f"existing scratch server {url.redacted()}")
    if spec == "docker":
        ok, why = docker_engine_available()
        if not ok:
            raise FixpackError(f"docker backend unavailable: {why}")
        return start_docker(image)
    if spec in ("auto", "local", "env"):
        return provide(spec)
    raise FixpackError(f"unknown backend {spec!r} (expected one of: {', '.join(CHOICES)})")
