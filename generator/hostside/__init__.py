"""Host-side facts: what an instance left on its compute node, read from the databases.

The network and volume JSON in nova's rows is parsed here into the plan's Vif and
VolumeConnection objects, and every value that can reach a shell script is
validated against the strict shape expected for it (`validate`). The databases
are input, not trusted code: a value of the wrong shape stops generation with a
TargetProblem instead of reaching `shell/compute-<host>.sh`.
"""

from generator.hostside.connection_info import checked_connection, parse_connection_info
from generator.hostside.network_info import checked_vif, parse_network_info

__all__ = ["checked_connection", "checked_vif", "parse_connection_info", "parse_network_info"]
