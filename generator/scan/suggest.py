"""The repair command of each finding: the supported API command where one does the job,
else the fixpack command. Every database value goes through `shell_arg`; a value that
cannot be shown on a command line (control characters) gives no command, only the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from generator.quoting import UnsafeValue, shell_arg


def command(words: Sequence[str], values: Sequence[object]) -> str:
    """`words` (fixed, trusted text with `{}` slots) filled with shell-quoted `values`."""
    try:
        quoted = [shell_arg(v) for v in values]
    except UnsafeValue as exc:
        return f"# no command: {exc}"
    return " ".join(words).format(*quoted)


def reset_volume(volume_id: str, state: str, *, detach: bool = False) -> str:
    extra = " --attach-status detached" if detach else ""
    return command([f"cinder reset-state --state {state}{extra}", "{}"], [volume_id])


def delete_attachment(attachment_id: str) -> str:
    return command(["cinder --os-volume-api-version 3.27 attachment-delete", "{}"], [attachment_id])


def reset_snapshot(snapshot_id: str, state: str) -> str:
    return command([f"cinder snapshot-reset-state --state {state}", "{}"], [snapshot_id])


def reset_backup(backup_id: str, state: str) -> str:
    return command([f"cinder backup-reset-state --state {state}", "{}"], [backup_id])


def server_state(instance_uuid: str, state: str) -> str:
    return command([f"openstack server set --state {state}", "{}"], [instance_uuid])


def delete_allocations(consumer: str) -> str:
    return command(["openstack resource provider allocation delete", "{}"], [consumer])


def delete_provider(provider_uuid: str) -> str:
    return command(["openstack resource provider delete", "{}"], [provider_uuid])


def map_instances(cell_uuid: str) -> str:
    return command(["nova-manage cell_v2 map_instances --cell_uuid", "{}"], [cell_uuid])


def fixpack(target_kind: str, uuid: str, op: str, *extra: str) -> str:
    """A fixpack command; `extra` are trusted option words (no database values)."""
    tail = "".join(f" {e}" for e in extra)
    return command([f"fixpack {target_kind}", "{}", f"--op {op}{tail}"], [uuid])


def stale_after(older_than: dt.timedelta) -> tuple[str, ...]:
    """The `--stale-after` a fixpack command needs to accept what a scan with `--older-than` found:
    none at the default or above (the command's own threshold already accepts it)."""
    from generator.domain.staleness import DEFAULT_STALE_AFTER, format_duration

    return () if older_than >= DEFAULT_STALE_AFTER else (f"--stale-after {format_duration(older_than)}",)


def quota_sync(project_id: str) -> str:
    return command(["cinder-manage quota sync --project-id", "{}"], [project_id])


def detach_from_nova(volume_id: str, instance_uuid: str) -> str:
    return command(
        ["fixpack volume", "{}", "--op detach-from-nova --instance", "{}"], [volume_id, instance_uuid]
    )
