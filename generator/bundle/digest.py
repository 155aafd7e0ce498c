"""The bundle digest: one sha256 naming every byte of a bundle, for `fixpack verify --expect`.

A reviewer signs the change table at the top of README.md; the table carries the
digest, and `fixpack verify BUNDLE --expect DIGEST` fails unless the bundle on disk
is byte for byte the one reviewed. The digest is

    sha256 of the text  "<sha256 hex of the file>  <path>\\n"  for every file, sorted by path

(`sha256sum`'s line format) over every regular file of the bundle directory —
README.md, manifest.json, sql/, shell/, data/ — except those under `captured/`,
which an offline bundle's capture step writes at run time (each with its own
`.sha256`, checked by `fixpack verify`).

README.md and manifest.json name the digest itself, which a hash cannot cover: in
those two files every occurrence of the digest is hashed as a placeholder
(`sha256:` and 64 NUL characters; in manifest.json as JSON writes them, `\\u0000`).
No NUL character can reach either file otherwise (Markdown values are escaped, JSON
escapes control characters), so the placeholder form is unique: `verify --expect`
also refuses a README.md with a NUL byte and a manifest whose `digest` is not the one
expected, and the bundle that passes is exactly the one generated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

PLACEHOLDER = "sha256:" + "\0" * 64
README = "README.md"
MANIFEST = "manifest.json"
RUN_TIME_DIR = "captured/"
_PLACEHOLDER_BYTES = {
    README: PLACEHOLDER.encode("utf-8"),
    MANIFEST: json.dumps(PLACEHOLDER)[1:-1].encode("ascii"),
}


def covered(rel: str) -> bool:
    """Is this bundle path part of the digest? Everything but what a capture writes at run time."""
    return not rel.startswith(RUN_TIME_DIR)


def normalized(rel: str, data: bytes, digest: str) -> bytes:
    """The bytes hashed for `rel`: README.md and manifest.json with the digest as the placeholder."""
    placeholder = _PLACEHOLDER_BYTES.get(rel)
    if placeholder is None or not digest:
        return data
    return data.replace(digest.encode("ascii"), placeholder)


def digest_of(files: Mapping[str, bytes]) -> str:
    """The digest of files already in their placeholder form (`normalized`)."""
    listing = "".join(f"{hashlib.sha256(files[rel]).hexdigest()}  {rel}\n" for rel in sorted(files))
    return "sha256:" + hashlib.sha256(listing.encode("utf-8")).hexdigest()


def seal(files: Mapping[str, str], manifest_text: str) -> tuple[str, dict[str, str], str]:
    """(digest, files, manifest text) with the placeholder replaced by the digest.

    `files` and `manifest_text` are as rendered with PLACEHOLDER wherever the digest goes.
    """
    placeholder_form = {rel: text.encode("utf-8") for rel, text in files.items() if covered(rel)}
    placeholder_form[MANIFEST] = manifest_text.encode("utf-8")
    digest = digest_of(placeholder_form)
    sealed = {
        rel: text.replace(PLACEHOLDER, digest) if rel == README else text for rel, text in files.items()
    }
    escaped = _PLACEHOLDER_BYTES[MANIFEST].decode("ascii")
    return digest, sealed, manifest_text.replace(escaped, digest)
