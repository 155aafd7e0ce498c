"""The `openstack server set --state ...` command of a scan's controller.sh, run as Nova's API
runs it, with Nova's own objects against the twin's databases (no API service, no RPC).

usage: <nova venv>/bin/python nova_api.py NOVA_CONF server set --state active|error UUID

`openstack server set --state S` is `POST /servers/{id}/action {"os-resetState": {"state": S}}`.
Nova 34.0.0 (2026.2) `api/openstack/compute/admin_actions.py AdminActionsController._reset_state`:
- `common.get_instance` -> `compute/api.py API._get_instance`: the instance mapping
  (`InstanceMapping.get_by_instance_uuid`, API database), `_get_instance_from_cell`:
  `nova_context.set_target_cell(context, im.cell_mapping)`, `Instance.get_by_uuid` there,
- the policy check (an admin context here),
- `InstanceAction.action_start(context, instance.uuid, instance_actions.RESET_STATE)`,
- `instance.vm_state = {'active': ACTIVE, 'error': ERROR}[state]; instance.task_state = None;
  instance.save(admin_state_reset=True)`,
- `instance_action.finish()`.
These calls, in that order, are what this script runs.

Any other argument list is refused (exit 9): the stand-in answers exactly the command forms
scan/suggest.py emits. An unknown instance exits 1 with Nova's message, as the client does.
"""

import sys

from nova import config, context, exception, objects
from nova.compute import instance_actions, vm_states

STATES = {"active": vm_states.ACTIVE, "error": vm_states.ERROR}  # admin_actions._reset_state's map


def main(conf: str, argv: list[str]) -> int:
    if len(argv) != 5 or argv[:3] != ["server", "set", "--state"] or argv[3] not in STATES:
        print(f"nova stand-in: unsupported: openstack {' '.join(argv)}", file=sys.stderr)
        return 9
    config.parse_args(["nova_api", "--config-file", conf])  # target_cell makes the cell's RPC transport
    objects.register_all()
    ctxt = context.get_admin_context()
    uuid = argv[4]
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(ctxt, uuid)
        context.set_target_cell(ctxt, mapping.cell_mapping)
        instance = objects.Instance.get_by_uuid(ctxt, uuid)
        action = objects.InstanceAction.action_start(ctxt, instance.uuid, instance_actions.RESET_STATE)
        instance.vm_state = STATES[argv[3]]
        instance.task_state = None
        instance.save(admin_state_reset=True)
        action.finish()
    except (exception.InstanceMappingNotFound, exception.InstanceNotFound) as exc:
        print(f"No server with a name or ID of '{uuid}' exists. ({exc})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
