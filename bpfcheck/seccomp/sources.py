"""Where seccomp policies come from: program files in any format, OCI /
Docker profiles (compiled by libseccomp), and running processes."""

from __future__ import annotations

from typing import Optional, Sequence

from ..errors import UsageError
from ..loading import program_from_bytes, read_source
from ..program import Program
from .policy import Policy


def load_filter(path: str, fmt: Optional[str] = None) -> Program:
    """One filter: raw ``struct sock_filter`` bytes, any text format, or an
    OCI/Docker seccomp profile (JSON, compiled through libseccomp)."""
    data = read_source(path)
    if fmt in (None, "oci"):
        from .oci import compile_profile, load_profile, looks_like_profile
        if fmt == "oci" or looks_like_profile(data):
            return compile_profile(load_profile(data, path)).program
    return program_from_bytes(data, fmt, name=path)


def load_policy(paths: Sequence[str] = (), fmt: Optional[str] = None, pid: Optional[int] = None) -> Policy:
    """The files as one stack (installation order: oldest first), or the
    filters installed in process ``pid``."""
    if pid is not None:
        if paths:
            raise UsageError("give FILEs or --pid, not both")
        from .live import dump_filters
        filters = dump_filters(pid)
        if not filters:
            raise UsageError(f"process {pid} has no seccomp filter")
        return Policy(filters, [f"pid {pid} filter {i}" for i in range(len(filters))])
    if not paths:
        raise UsageError("a policy is needed: FILE ... (oldest filter first) or --pid PID")
    return Policy([load_filter(p, fmt) for p in paths], list(paths))


def describe_source(paths: Sequence[str], pid: Optional[int]) -> str:
    if pid is not None:
        return f"process {pid}"
    return " + ".join(paths)
