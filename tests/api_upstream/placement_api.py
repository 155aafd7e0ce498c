"""The `openstack resource provider ...` commands of a scan's controller.sh, answered by the real
Placement API application in-process (no HTTP server, no Keystone).

usage: <placement venv>/bin/python placement_api.py PLACEMENT_CONF resource provider delete UUID

Builds the WSGI application placement-api serves (`placement.wsgi.init_application`'s
`db_api.configure` and `placement.deploy.loadapp`, which also runs
the boot-time trait and resource class sync a real placement-api runs) with
`[api] auth_strategy = noauth2`, as `placement.direct.PlacementDirect` does, and sends it the
request osc-placement's `resource provider delete` sends: `DELETE /resource_providers/{uuid}`
as admin. That request runs `handlers/resource_provider.py delete_resource_provider`:
`ResourceProvider.get_by_uuid` then `destroy()` (`_delete_rp`: refused with 409 when the provider
has allocations or children, else its inventories, traits, aggregates and row deleted).
The uuid is percent-encoded (osc-placement formats it into the path as is; a real provider's
uuid has nothing to encode, the tests' hostile one has).

Any other argument list is refused (exit 9): the stand-in answers exactly the command forms
scan/suggest.py emits. A non-2xx answer is printed as the client prints it and exits 1.
"""

import sys
import urllib.parse

import webob
from oslo_config import cfg
from placement import conf as placement_conf
from placement import db_api, deploy


def main(conf_file: str, argv: list[str]) -> int:
    if len(argv) != 4 or argv[:3] != ["resource", "provider", "delete"]:
        print(f"placement stand-in: unsupported: openstack {' '.join(argv)}", file=sys.stderr)
        return 9
    conf = cfg.ConfigOpts()
    placement_conf.register_opts(conf)
    conf(["--config-file", conf_file], project="placement", default_config_files=[])
    conf.set_override("auth_strategy", "noauth2", group="api")
    db_api.configure(conf)  # as placement/wsgi init_application does before loadapp
    app = deploy.loadapp(conf)
    path = "/resource_providers/" + urllib.parse.quote(argv[3], safe="")
    req = webob.Request.blank(path, method="DELETE", headers={"X-Auth-Token": "admin"})
    resp = req.get_response(app)
    if resp.status_int >= 300:
        print(f"Failed to delete resource provider: {resp.status}: {resp.text}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
