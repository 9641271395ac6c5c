"""Writing files the safe way: never over a user's file unless asked, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..engine import InputError


def write_atomic(path: Path, write: Callable[[Path], None], *, force: bool = False) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError("already exists; pass --force to overwrite it", where=str(path))
    if not path.parent.exists():
        raise InputError("the folder does not exist", where=str(path.parent))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else _default_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _default_mode() -> int:
    """What a plain open() would give: 0o666 less the umask (mkstemp makes 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
