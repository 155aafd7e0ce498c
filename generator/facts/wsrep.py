"""Read a server's Galera write-set limits (`wsrep_on`, `wsrep_max_ws_rows`, `wsrep_max_ws_size`).

`SHOW GLOBAL VARIABLES` answers on every MariaDB and MySQL server: a variable the
server does not have (MySQL has no wsrep variables) is simply not listed, which
reads as "wsrep off". GLOBAL values: a client running the bundle starts with them.
"""

from __future__ import annotations

from generator.connect.session import Session
from generator.facts.model import WriteSetLimits

QUERY = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_max_ws_rows', 'wsrep_max_ws_size')"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def read_write_set_limits(session: Session) -> WriteSetLimits:
    """One round trip; the values as the server reports them."""
    values = {str(r[0]).lower(): r[1] for r in session.query_tuples(QUERY)}
    return WriteSetLimits(
        wsrep_on=str(values.get("wsrep_on", "OFF")).upper() in ("ON", "1"),
        max_ws_rows=_int(values.get("wsrep_max_ws_rows", 0)),
        max_ws_size=_int(values.get("wsrep_max_ws_size", 0)),
        server=session.server_version,
    )
