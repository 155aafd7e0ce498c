"""Mask secrets in database values shown to people; pre-images keep them for an exact rollback.

Rows fixpack reads can hold credentials: Nova's and Cinder's `connection_info`
JSON carries iSCSI CHAP `auth_password` (and `discovery_auth_password`),
Cinder's `volumes.provider_auth` is `CHAP <user> <password>`, nova_api's
`cell_mappings.database_connection` and `transport_url` are URLs with
passwords. The rollback SQL and `data/preimages.json` must keep them (the
rollback restores them byte for byte); everything printed or rendered for a
person — runbook text, `verify` drift lines, `rehearse` output, CLI messages —
goes through `mask_value` (a column's value) or `mask_text` (free text).

Next to `generator/quoting.py`: mask first, then quote for the destination.
URLs are masked by `connect.urls.redact_url`, the one URL redaction rule.
"""

from __future__ import annotations

import re
from typing import Any

from generator.connect.urls import redact_url

MASK = "***"
# Columns whose whole value (after the method word) is a credential.
SECRET_COLUMNS = frozenset({"provider_auth"})
_KEY = r"[^\"'\\]*(?:password|passwd|secret|provider_auth|auth_key)[^\"'\\]*"
_JSON_PAIR = re.compile(rf'(?i)("{_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"')
# JSON inside a JSON string: an inner `"` is `\\\"`, an inner backslash `\\\\`.
_ESCAPED_PAIR = re.compile(rf'(?i)(\\"{_KEY}\\"\s*:\s*)\\"(?:\\\\\\\\|\\\\\\"|\\\\[^"\\]|[^"\\])*\\"')
_REPR_PAIR = re.compile(rf"(?i)('{_KEY}'\s*:\s*)'(?:[^'\\]|\\.)*'")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")


def mask_text(text: str) -> str:
    """Free text with secret-named JSON fields and URL passwords replaced by `***`."""
    if not text:
        return text
    text = _JSON_PAIR.sub(rf'\1"{MASK}"', text)
    text = _ESCAPED_PAIR.sub(rf'\1\\"{MASK}\\"', text)
    text = _REPR_PAIR.sub(rf"\1'{MASK}'", text)
    return _URL.sub(lambda m: redact_url(m.group()), text)


def mask_value(column: str | None, value: Any) -> Any:
    """A column's value as a person may see it; non-text values pass unchanged."""
    if isinstance(value, bytes | bytearray):
        try:
            decoded = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
        masked = mask_value(column, decoded)
        return value if masked == decoded else masked.encode("utf-8")
    if not isinstance(value, str):
        return value
    if column is not None and column.lower() in SECRET_COLUMNS:
        method = value.split(None, 1)[0] if value.strip() else ""
        return f"{method} {MASK}".strip() if method.isalpha() and method.isupper() else MASK
    return mask_text(value)
