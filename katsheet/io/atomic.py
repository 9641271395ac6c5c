"""Writing files the safe way: never over a user's file unless asked, never half-written.

Every file is rendered to bytes in memory first, so a command that writes several files writes
all or none: nothing touches the disk until all of them rendered. Each is then published in one
step, from a file that has no name until it is complete (Linux ``O_TMPFILE``):
- without ``force``, by a hard link, which fails when the target exists: of several commands
  writing one path at once exactly one succeeds (no check-then-rename race);
- with ``force``, by a link to a fresh name and a rename over the target.
A process killed at any moment leaves either nothing or the whole file. Where ``O_TMPFILE`` does
not exist (macOS, Windows) a named temporary file is used and removed on any error. Every failure
(a folder in the way, no permission, a full disk) is one InputError line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..engine import InputError

Content = bytes | Callable[[], bytes]


def _problem(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return "the disk is full: nothing was written"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "no permission to write here: nothing was written"
    if e.errno == errno.EISDIR:
        return "is a folder: give a file name"
    return f"cannot be written ({e.strerror or e}): nothing was written"


def _default_mode() -> int:
    """What a plain open() would give: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise InputError("is a folder: give a file name", where=str(path))
    if path.exists() and not force:
        raise InputError("already exists; pass --force to overwrite it", where=str(path))
    if not path.parent.is_dir():
        raise InputError("the folder does not exist", where=str(path.parent))


def write_atomic(path: Path, content: Content, *, force: bool = False) -> None:
    """Write ``content`` (bytes, or a function making them) to ``path``, atomically."""
    write_all([(Path(path), content)], force=force)


def write_all(files: Iterable[tuple[Path, Content]], *, force: bool = False) -> None:
    """Write several files all or none. Should publishing one fail (the disk filled up, another
    program took a name), those this call already published are removed again."""
    files = [(Path(p), c) for p, c in files]
    for path, _ in files:
        _check_target(path, force)
    rendered = [(path, content() if callable(content) else content) for path, content in files]
    published: list[Path] = []
    try:
        for path, data in rendered:
            _publish(path, data, force)
            published.append(path)
    except FileExistsError:
        _undo(published)
        first = next(p for p, _ in rendered if p not in published)
        raise InputError("already exists (written meanwhile by something else); nothing was written",
                         where=str(first)) from None  # fmt: skip
    except OSError as e:
        _undo(published)
        raise InputError(_problem(e), where=str(next(p for p, _ in rendered if p not in published))) from None
    except BaseException:
        _undo(published)
        raise


def _publish(path: Path, data: bytes, force: bool) -> None:
    flag = getattr(os, "O_TMPFILE", None)
    fd = None
    if flag is not None:
        with contextlib.suppress(OSError):  # a file system without O_TMPFILE: a named file instead
            fd = os.open(path.parent, flag | os.O_WRONLY, _default_mode())
    if fd is None:
        _publish_named(path, data, force)
        return
    try:
        _write_fd(fd, data)
        if not force:
            _link_fd(fd, path)
            return
        tmp = _fresh_name(path)
        _link_fd(fd, tmp)
        try:
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    finally:
        os.close(fd)


def _link_fd(fd: int, path: Path) -> None:
    """Give the nameless file ``fd`` a name: linkat(/proc/self/fd/N, AT_SYMLINK_FOLLOW). CPython
    uses linkat only when a directory fd is given, so the /proc/self/fd folder is given as one."""
    folder = os.open("/proc/self/fd", os.O_RDONLY)
    try:
        os.link(str(fd), path, src_dir_fd=folder, follow_symlinks=True)
    finally:
        os.close(folder)


def _publish_named(path: Path, data: bytes, force: bool) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        _write_fd(fd, data)
        os.close(fd)
        fd = -1
        os.chmod(tmp, _default_mode())
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _fresh_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")


def _undo(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
