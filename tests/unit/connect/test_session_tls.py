"""connect/session.py: the TLS context of PyMySQL's default (PREFERRED) mode is built once per process."""

from __future__ import annotations

import ssl

from generator.connect.session import _Connection


def test_connections_without_tls_options_share_one_context_and_others_get_their_own() -> None:
    conn = object.__new__(_Connection)  # no server: only the context builder is exercised
    first, second = conn._create_ssl_ctx({}), conn._create_ssl_ctx({})
    assert first is second
    assert first.verify_mode == ssl.CERT_NONE and not first.check_hostname  # PyMySQL's PREFERRED mode
    own = conn._create_ssl_ctx({"verify_mode": "optional"})  # a TLS option: PyMySQL's own context
    assert own is not first and own.verify_mode == ssl.CERT_OPTIONAL
