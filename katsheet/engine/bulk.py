"""Helpers for tables of 100,000 rows (a year of a large DAO's ledger)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Building a few hundred thousand records makes no reference cycles, yet Python's cycle
    collector rescans them again and again (a third of the time, measured in bench_kat.py).
    Switched off inside, and back on after, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
