"""scratch/provider.py: why a Docker scratch server did not start, in the one error line.

The container object here only hands back log bytes, as testcontainers' `get_logs()` does; the
real start path runs in tests/db/rehearse/test_rehearse_docker.py.
"""

from __future__ import annotations

from generator.scratch.provider import _log_tail


class _Printed:
    def __init__(self, out: bytes = b"", err: bytes = b"", fails: bool = False) -> None:
        self.out, self.err, self.fails = out, err, fails

    def get_logs(self) -> tuple[bytes, bytes]:
        if self.fails:
            raise RuntimeError("Container should be started before getting logs")
        return self.out, self.err


def test_the_last_lines_the_server_printed_are_the_reason():
    err = b"2026-12-05 [Note] starting\n\n[ERROR] Can't create test file /var/lib/mysql/x.lower-test\n"
    err += b"[ERROR] Aborting\n"
    said = _log_tail(_Printed(err=err), "secret", lines=2)
    reason = "[ERROR] Can't create test file /var/lib/mysql/x.lower-test | [ERROR] Aborting"
    assert said == "; container said: " + reason


def test_the_password_and_control_characters_never_reach_the_message():
    said = _log_tail(_Printed(out=b"root password is fixpack-scratch\x1b[31m\n"), "fixpack-scratch")
    assert "fixpack-scratch" not in said and "\x1b" not in said
    assert said == "; container said: root password is ***\\x1b[31m"  # quoting.terminal


def test_nothing_printed_or_never_started_adds_nothing():
    assert _log_tail(_Printed(), "p") == ""
    assert _log_tail(_Printed(fails=True), "p") == ""
