"""Database URLs as the operator writes them (SQLAlchemy / oslo.db style).

`mysql+pymysql://user:secret@host:3306/nova?charset=utf8` — the form found in
nova.conf, cinder.conf, placement.conf and in nova_api `cell_mappings`. The
password is kept only to open the connection: `str()`, `repr()` and every
message show the URL redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from generator.errors import ConnectionProblem

_SCHEMES = {
    "mysql",
    "mariadb",
    "mysql+pymysql",
    "mariadb+pymysql",
    "mysql+mysqldb",
    "mariadb+mysqldb",
    "mysql+mysqlconnector",
    "mysql+oursql",
}


@dataclass(frozen=True)
class DatabaseURL:
    scheme: str = "mysql+pymysql"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: tuple[tuple[str, str], ...] = ()

    @property
    def unix_socket(self) -> str | None:
        return dict(self.query).get("unix_socket")

    @property
    def charset(self) -> str:
        return dict(self.query).get("charset", "utf8mb4")

    def with_database(self, name: str) -> DatabaseURL:
        return replace(self, database=name)

    def redacted(self) -> str:
        """The URL for people: `redact_url` of its full text (the one redaction rule)."""
        return redact_url(self.render(with_password=True))

    def __str__(self) -> str:
        return self.redacted()

    def render(self, *, with_password: bool) -> str:
        """The full URL text; only used to hand a URL to a child process's env."""
        auth = quote(self.user or "", safe="") if self.user else ""
        if with_password and self.password:
            auth += ":" + quote(self.password, safe="")
        auth += "@" if auth else ""
        host = f"[{self.host}]" if self.host and ":" in self.host else (self.host or "")
        port = f":{self.port}" if self.port else ""
        db = f"/{self.database}" if self.database else ""
        q = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.scheme}://{auth}{host}{port}{db}" + (f"?{q}" if q else "")


def parse_url(text: str, *, what: str = "database URL") -> DatabaseURL:
    """Parse an SQLAlchemy-style MySQL/MariaDB URL; one clear error otherwise (password never shown)."""
    text = (text or "").strip()
    if "://" not in text:
        raise ConnectionProblem(
            f"{what}: expected mysql+pymysql://user:pass@host/db, got {redact_url(text)!r}"
        )
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        host = parts.hostname
    except ValueError:  # e.g. a '[' without ']': urlsplit's message may quote the netloc, password included
        raise ConnectionProblem(
            f"{what}: not a valid URL (check brackets around an IPv6 host): {redact_url(text)!r}"
        ) from None
    if scheme not in _SCHEMES:
        raise ConnectionProblem(
            f"{what}: unsupported scheme {redact_url(scheme)[:40]!r} (fixpack speaks MySQL/MariaDB only)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConnectionProblem(f"{what}: port is not a number 0-65535 in {redact_url(text)!r}") from None
    database = unquote(parts.path.lstrip("/")) or None
    return DatabaseURL(
        scheme=scheme,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=host,
        port=port,
        database=database,
        query=tuple(parse_qsl(parts.query)),
    )


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*:)?//")
_SECRET_QUERY = re.compile(r"(?i)([?&;](?:[^=&;#]*pass[^=&;#]*|[^=&;#]*secret[^=&;#]*)=)[^&;#]*")


def redact_url(text: str) -> str:
    """A URL, or text meant as one, with every password replaced by `***` — whether or not it parses.

    The one redaction rule for every URL fixpack prints (parsed or not: a URL
    that fails to parse is the one most likely to be echoed in an error):

    * user info is everything before the LAST `@` (a password may hold `@`,
      `/`, `:` or `?`); what follows the user name's first `:` becomes `***`
      (an RabbitMQ `transport_url` with several hosts is masked whole up to
      its last host);
    * with no `@`, a `host:port` whose port is not digits (`user:secret`
      missing its host) has the part after `:` masked;
    * query parameters named like a password or secret are masked.
    """
    text = str(text)
    m = _SCHEME.match(text)
    head, rest = (text[: m.end()], text[m.end() :]) if m else ("", text)
    if "@" in rest:
        userinfo, _, tail = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        rest = f"{user}{':***' if colon else ''}@{tail}"
    elif m:
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if not authority.startswith("["):
            host, colon, port = authority.partition(":")
            if colon and not port.isdigit():
                rest = f"{host}:***" + rest[len(authority) :]
    return _SECRET_QUERY.sub(r"\1***", head + rest)
