"""Files that are either wholly written or not there at all.

Results of long runs (findings, corpora, reports) go through here: the
bytes land in a temporary file in the same directory, are flushed to disk,
and are renamed over the destination, which POSIX makes atomic.  A killed
process leaves at worst a stray ``.tmp`` file, never a half-written result.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from typing import Iterator, Union


def write_atomic(path: Union[str, os.PathLike], data: Union[bytes, str], fsync: bool = True) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, file_mode(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def file_mode(path: str) -> int:
    """The permissions ``path`` gets: those it has, or what a plain
    ``open(path, "w")`` would give a new file (0666 less the umask), not
    the private 0600 of :func:`tempfile.mkstemp` (a report another user
    serves, a corpus a team shares, must stay readable)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


@contextlib.contextmanager
def locked(directory: Union[str, os.PathLike]) -> Iterator[None]:
    """An exclusive advisory lock on ``directory`` (for writers sharing it)."""
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, ".lock"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
