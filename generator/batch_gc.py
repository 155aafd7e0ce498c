"""Garbage collection while a batch bundle is generated.

A 1000-VM batch holds millions of long-lived objects (the facts' rows, every plan's sqlglot
trees) while it renders hundreds of thousands of short-lived trees. CPython's default
thresholds run a full collection every few hundred thousand allocations, and each one walks
every live object again: 16 full collections were a quarter of a 1000-VM run, growing with
the square of the batch. So, for the batch only, young garbage is collected as usual (sqlglot
trees are cycles through their parent links: only the collector frees them) but in larger
steps, and what each phase leaves for the next (facts, then plans) is frozen: set aside from
later collections, not freed. Nothing here changes what is generated.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

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
