"""Database URLs as the operator writes them (SQLAlchemy / oslo.db style).

`mysql+pymysql://user:secret@host:3306/nova?charset=utf8` — the form found in
nova.conf, cinder.conf, placement.conf and in nova_api `cell_mappings`. The
password is kept only to open the connection: `str()`, `repr()` and every
message show the URL redacted.
"""

from __future__ import annotations

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

    def with_defaults(self, **values: object) -> DatabaseURL:
        """Fill only the fields that are empty (option files never override a URL)."""
        filled = {k: v for k, v in values.items() if getattr(self, k) in (None, "") and v}
        return replace(self, **filled) if filled else self

    def redacted(self) -> str:
        auth = ""
        if self.user:
            auth = quote(self.user, safe="") + (":***" if self.password else "") + "@"
        host = self.host or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        db = f"/{self.database}" if self.database else ""
        q = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.scheme}://{auth}{host}{port}{db}" + (f"?{q}" if q else "")

    def __str__(self) -> str:
        return self.redacted()

    def render(self, *, with_password: bool) -> str:
        """The full URL text; only used to hand a URL to a child process's env."""
        if not with_password or not self.password:
            return self.redacted().replace(":***@", "@")
        auth = quote(self.user or "", safe="") + ":" + quote(self.password, safe="") + "@"
        host = f"[{self.host}]" if self.host and ":" in self.host else (self.host or "")
        port = f":{self.port}" if self.port else ""
        db = f"/{self.database}" if self.database else ""
        q = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.scheme}://{auth}{host}{port}{db}" + (f"?{q}" if q else "")


def parse_url(text: str, *, what: str = "database URL") -> DatabaseURL:
    """Parse an SQLAlchemy-style MySQL/MariaDB URL; one clear error otherwise."""
    text = (text or "").strip()
    if "://" not in text:
        raise ConnectionProblem(f"{what}: expected mysql+pymysql://user:pass@host/db, got {_safe(text)!r}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConnectionProblem(f"{what}: unsupported scheme {scheme!r} (fixpack speaks MySQL/MariaDB only)")
    try:
        port = parts.port
    except ValueError:
        raise ConnectionProblem(f"{what}: port is not a number in {_safe(text)!r}") from None
    database = unquote(parts.path.lstrip("/")) or None
    return DatabaseURL(
        scheme=scheme,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=parts.hostname,
        port=port,
        database=database,
        query=tuple(parse_qsl(parts.query)),
    )


def _safe(text: str) -> str:
    """The URL text with any password blanked, for error messages."""
    try:
        parts = urlsplit(text)
        if parts.password:
            return text.replace(":" + parts.password + "@", ":***@")
    except ValueError:
        pass
    return text
