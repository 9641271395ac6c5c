"""Work done on the machine's other core while this process goes on with its own.

A check spends half its time evaluating the formulas with `formulas`, which nothing else in the
check waits for until the numbers are compared; a settlement then writes its files. On a machine
with two cores or more, ``Background`` runs such a function in a forked child (which sees this
process's memory as it was, so nothing is copied over) and takes its result back through a pipe,
pickled: a 10,000-row KAT month's 160,000 evaluated cells in about 0.1 s.

It forks only where that is safe and useful: Linux (macOS frameworks may not survive a fork),
more than one core, and no other thread running (a fork copies locks other threads may hold: the
dashboard and a check of several files, with its progress bar, evaluate in-process).
``KATSHEET_SERIAL=1`` turns it off. Whatever goes wrong in the child (an exception, a result that
cannot be pickled, a child killed), the function is simply run again in this process, which
then gives the result or raises the exception itself: the answer never depends on the fork.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: set to 1 to run everything in one process (the results are the same either way)
SERIAL_VARIABLE = "KATSHEET_SERIAL"


def can_fork() -> bool:
    """Is a forked child safe and useful here (see the module's docstring)?"""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and os.environ.get(SERIAL_VARIABLE, "") not in ("1", "true", "yes")
    )


class Background(Generic[T]):
    """``fn()``, computed in a forked child when ``can_fork()``, else in ``result()``."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.pid: int | None = None
        self.pipe: int | None = None
        if can_fork():
            self._fork()

    def _fork(self) -> None:
        read, write = os.pipe()
        gc.freeze()  # the child's collections leave this process's objects alone (no pages copied)
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, hand the result over, and leave without any clean-up
            code = 1
            try:
                os.close(read)
                payload = pickle.dumps(self.fn(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                code = 0
            except BaseException:  # the parent computes it again, and raises it itself
                pass
            finally:
                os._exit(code)
        gc.unfreeze()
        os.close(write)
        self.pid, self.pipe = pid, read

    @property
    def forked(self) -> bool:
        return self.pid is not None

    def result(self) -> T:
        """The function's result: the child's when it gave one, else computed here."""
        if self.pipe is not None:
            with os.fdopen(self.pipe, "rb") as pipe:
                self.pipe = None
                payload = pipe.read()
            if self._reap() == 0 and payload:
                try:
                    return pickle.loads(payload)
                except Exception:  # a damaged payload: computed here instead
                    pass
        return self.fn()

    def _reap(self) -> int | None:
        """Wait for the child; its exit code (None: there is none to wait for)."""
        pid, self.pid = self.pid, None
        if pid is None:
            return None
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)  # negative: killed by a signal

    def close(self) -> None:
        """Stop the child if its result is no longer wanted (an error in this process)."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
