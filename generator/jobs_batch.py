"""The batch VM job: many instances, one bundle per cell, through the same assemble stage.

Beside pipeline.py (which it calls) rather than in it: the batch adds a collection policy and
its own phases (one read of every instance, a plan each, one merge), none of which a single
instance's bundle needs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from generator.pipeline import BundleResult, OutputOptions, assemble

# Garbage collection while a batch bundle is generated.
#
# A 1000-VM batch holds millions of long-lived objects (the facts' rows, every plan's sqlglot
# trees) while it renders hundreds of thousands of short-lived trees. CPython's default
# thresholds run a full collection every few hundred thousand allocations, and each one walks
# every live object again: 16 full collections were a quarter of a 1000-VM run, growing with
# the square of the batch. So, for the batch only, young garbage is collected as usual (sqlglot
# trees are cycles through their parent links: only the collector frees them) but in larger
# steps, and what each phase leaves for the next (facts, then plans) is frozen: set aside from
# later collections, not freed. Nothing here changes what is generated.
_THRESHOLDS = (50_000, 20, 10)  # allocations before a young collection; young ones per older one


@contextmanager
def batch_collection() -> Iterator[None]:
    """Larger collection steps for the duration of a batch; the defaults (and nothing frozen) after."""
    before = gc.get_threshold()
    gc.set_threshold(*_THRESHOLDS)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def settled() -> None:
    """What is alive now lives until the bundle is written: exempt it from later collections."""
    gc.freeze()


def generate_vm_batch(
    uuids: list[str],
    options,
    targets,
    release: str,
    output: OutputOptions,
    progress: Callable[[str], None] | None = None,
) -> list[BundleResult]:
    """One bundle for many instances (per cell): merged, chunked, guarded like any other.

    `progress` (cli/progress.py) hears each step start: the facts, each instance's plan, each
    bundle — `len(uuids) + 2` steps for one cell (one more per further cell)."""
    with batch_collection():
        return _generate_vm_batch(uuids, options, targets, release, output, progress)


def _generate_vm_batch(
    uuids: list[str],
    options,
    targets,
    release: str,
    output: OutputOptions,
    progress: Callable[[str], None] | None,
) -> list[BundleResult]:
    from generator.facts.batch import read_instances
    from generator.facts.live import LiveDatabases
    from generator.plan.batch import merge_plans
    from generator.plan.vm import plan_vm

    say = progress or (lambda _step: None)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not targets.any:
        from generator.plan.vm_offline import plan_vm_offline

        say("catalog")
        offline_plans = []
        for n, u in enumerate(uuids, 1):
            say(f"planning {n}/{len(uuids)}")
            offline_plans.append(plan_vm_offline(u, options, release))
        groups = {"offline": offline_plans}
        rounds = 0
    else:
        live = LiveDatabases(targets, release)
        groups = {}
        try:
            say(f"reading {len(uuids)} instances")
            facts = read_instances(live, uuids, include_shadow=options.include_shadow)  # one pass
            settled()
            timings["facts"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            for n, one in enumerate(facts, 1):
                say(f"planning {n}/{len(uuids)}")
                plan = plan_vm(one, options)
                groups.setdefault(plan.database("nova").database or "", []).append(plan)
            rounds = live.counter.count
        finally:
            live.close()
    timings["plan"] = time.perf_counter() - t0
    settled()
    results = []
    for k, plans in enumerate(groups.values(), 1):
        say(f"bundle {k}/{len(groups)}: merge, render, lint, write")
        t0 = time.perf_counter()
        merged = merge_plans(plans)
        timings["merge"] = time.perf_counter() - t0
        results.append(assemble(merged, output, timings=timings, round_trips=rounds))
    return results
