"""A forked child with a pipe back, a deadline on every wait, and a reaper.

Used where a real implementation may crash, hang or must change process-wide
state we never want in the caller (a seccomp filter, a network namespace,
libpcap's infinite loops).  The child dies with its parent
(``PR_SET_PDEATHSIG``) and always leaves through ``os._exit``, so it never
runs the parent's cleanup handlers or flushes its buffers.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import faulthandler
import os
import select
import signal
import time
from typing import Callable, Optional

PR_SET_PDEATHSIG = 1
EXIT_CHILD_EXCEPTION = 70        # EX_SOFTWARE: the child's Python code raised

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent_pid: int) -> None:
    """In a child: be SIGKILLed when the parent goes away.  The check after
    the prctl closes the race where the parent died before it."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


class Child:
    """``fn(write_fd)`` running in a forked child.

    The parent reads what the child writes with :meth:`read_exact`
    (``None`` on timeout or end of file), and :meth:`wait` / :meth:`kill`
    reap it.  A context manager: leaving it kills and reaps the child.
    """

    def __init__(self, fn: Callable[[int], Optional[int]]):
        parent = os.getpid()
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:                                    # the child
            code = EXIT_CHILD_EXCEPTION
            try:
                os.close(rfd)
                # A crash in here is an answer the parent reads from the
                # wait status, not something to report on a shared stderr.
                faulthandler.disable()
                die_with_parent(parent)
                result = fn(wfd)
                code = 0 if result is None else int(result)
            except BaseException:                       # noqa: BLE001 - must not escape a fork
                pass
            finally:
                os._exit(code)
        os.close(wfd)
        self.pid = pid
        self.status: Optional[int] = None               # the raw wait status once reaped
        self._rfd = rfd
        self._pidfd = _pidfd_open(pid)

    # --- reading --------------------------------------------------------
    def read_exact(self, n: int, timeout: float) -> Optional[bytes]:
        """``n`` bytes from the child; None when they do not all come within
        ``timeout`` seconds; fewer than ``n`` (maybe ``b""``) when the child
        closed its end first (it exited or died)."""
        if self._rfd is None:
            return None
        deadline = time.monotonic() + timeout
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._rfd], [], [], left)[0]:
                return None
            data = os.read(self._rfd, n - got)
            if not data:
                break
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    # --- reaping --------------------------------------------------------
    def wait(self, timeout: float) -> Optional[int]:
        """The wait status, or None if the child is still running after
        ``timeout`` seconds."""
        if self.status is not None:
            return self.status
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                self._close_fds()
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self._pidfd is not None:
                select.select([self._pidfd], [], [], left)
            else:
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.05)

    def kill(self) -> int:
        """SIGKILL (if still running) and reap; returns the wait status."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, self.status = os.waitpid(self.pid, 0)   # SIGKILL cannot be ignored
            self._close_fds()
        return self.status

    def _close_fds(self) -> None:
        for fd in (self._rfd, self._pidfd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._rfd = self._pidfd = None

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    def __del__(self):
        if getattr(self, "status", 0) is None:
            self.kill()


def _pidfd_open(pid: int) -> Optional[int]:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def describe_status(status: int) -> str:
    """'exit 3', 'killed by SIGSEGV', ..."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(sig).name}"
        except ValueError:
            return f"killed by signal {sig}"
    return f"exit {os.WEXITSTATUS(status)}"


def errno_name(code: int) -> str:
    return _errno.errorcode.get(code, f"errno {code}")
