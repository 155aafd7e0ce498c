"""Seed a scratch Deployment with realistic OpenStack rows, release-aware.

    from generator.seed import Seeder
    s = Seeder(dep, seed=1)
    host = s.compute_host("cmp-01")
    inst = s.instance(host=host, volumes=1)
    vol = s.volume(attach_to=inst, protocol="rbd", snapshots=1)
    s.flush()

See seeder.py for the API and the per-service modules for what each row holds.
"""

from generator.seed.model import ComputeHost, SeededInstance, SeededPort, SeededVolume
from generator.seed.seeder import Seeder
from generator.seed.writer import SeedError

__all__ = ["ComputeHost", "SeedError", "SeededInstance", "SeededPort", "SeededVolume", "Seeder"]
