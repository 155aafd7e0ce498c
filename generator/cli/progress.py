"""Progress on stderr while a long command runs on a terminal: click's progress bar, silent when piped.

A scan runs its checks, a batch reads the facts of many targets, plans each and renders one
bundle: minutes at fleet scale, with nothing on the screen otherwise. The library reports its
steps through a `Progress` callback (`progress("planning 12/1000")` = the previous step is done,
this one starts); the CLI gives it one only while stderr is a terminal. Piped or redirected, no
bar is made at all (click would still print its label once there), so logs and `--format json`
stay clean. The labels are fixed words and counters, never database values.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

Progress = Callable[[str], None]


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Progress | None]:
    """A `Progress` that moves click's bar one step per call (the step named is the one starting);
    None when stderr is not a terminal. Leaving the block ends the bar's line: output starts clean."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = click.progressbar(
        length=max(total, 1), label=label, file=sys.stderr, show_eta=False, item_show_func=lambda c: c
    )
    started: list[str] = []

    def progress(step: str) -> None:
        if started:
            bar.update(1, step)  # the previous step is done
        else:
            bar.current_item = step
            bar.render_progress()
        started.append(step)

    with bar:
        yield progress
        bar.update(1 if started else 0, "done")
