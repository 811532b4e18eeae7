"""The native pcap record walk: built once with the system C compiler,
cached, loaded with ctypes.

Finding where the records of a classic pcap file start is the one step of
``run --pcap`` that numpy cannot vectorise (each record's start depends on
the length word of the record before), and in Python it costs one
interpreter step per record -- half the wall time of a million-packet
capture.  ``pcapwalk.c`` does that walk and nothing else.

It is an accelerator, never a requirement: with no compiler, a read-only
cache, ``BPFCHECK_NATIVE=0`` or any failure to build or load, ``walker()``
returns None and the pure-Python walk in :mod:`bpfcheck.pcapio` runs
instead, with the same answer (the tests hold the two to it).

    python -m bpfcheck.fast.native     # build it now (make does, after pip)
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import Callable, Optional

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "native", "pcapwalk.c")
FLAGS = ["-O2", "-shared", "-fPIC"]
BUILD_TIMEOUT = 60.0

_loaded: Optional[Callable] = None
_tried = False
_failure: Optional[str] = None


def enabled() -> bool:
    return os.environ.get("BPFCHECK_NATIVE", "1").strip().lower() not in ("0", "no", "false", "off")


def cache_dir() -> str:
    """``$BPFCHECK_CACHE``, else ``$XDG_CACHE_HOME/bpfcheck``, else
    ``~/.cache/bpfcheck``."""
    explicit = os.environ.get("BPFCHECK_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bpfcheck")


def library_path(source: bytes) -> str:
    # The name carries a checksum of the source, the flags and the
    # interpreter's platform: a change to any builds a new library instead
    # of loading a stale one.  (Checked on every run, so no hashlib: it is
    # an identity, not a defence; _trusted is the defence.)
    key = zlib.crc32(b"\0".join([source, " ".join(FLAGS).encode(), sys.platform.encode(),
                                 str(sys.maxsize).encode()]))
    return os.path.join(cache_dir(), f"pcapwalk-{key:08x}.so")


def compiler() -> Optional[str]:
    import shutil
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def build() -> str:
    """The path of the built library, building it if it is not cached.
    Raises OSError with the reason when it cannot."""
    with open(SOURCE, "rb") as f:
        source = f.read()
    path = library_path(source)
    if _trusted(path):
        return path
    cc = compiler()
    if cc is None:
        raise OSError("no C compiler (cc/gcc) on PATH")
    import subprocess
    import tempfile
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    # Built under a temporary name and renamed into place, so processes
    # building at once (pytest workers) never load a half-written file.
    fd, partial = tempfile.mkstemp(prefix=".pcapwalk-", suffix=".so", dir=directory)
    os.close(fd)
    try:
        proc = subprocess.run([cc, *FLAGS, "-o", partial, SOURCE], capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["no message"])[0]
            raise OSError(f"{cc} failed: {first}")
        os.chmod(partial, 0o755)
        os.replace(partial, path)
    except subprocess.TimeoutExpired:
        raise OSError(f"{cc} took more than {BUILD_TIMEOUT:g} s") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return path


def _trusted(path: str) -> bool:
    """Whether ``path`` is a library we may load: ours, and writable by
    no one else (a shared cache must not let another user swap the code)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def walker() -> Optional[Callable]:
    """The C walk as ``walk(buffer, pos, have, swap, max_records, starts,
    caplens, wirelens, end_pointer) -> count`` (addresses for the buffer
    and the three int64 arrays; see pcapwalk.c), or None when it is not
    available (``failure()`` says why)."""
    global _loaded, _tried, _failure
    if not enabled():
        return None
    if not _tried:
        _tried = True
        try:
            import ctypes
            library = ctypes.CDLL(build())
            fn = library.bpfcheck_walk_pcap
            fn.restype = ctypes.c_long
            fn.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_long,
                           ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                           ctypes.POINTER(ctypes.c_long)]
            _loaded = fn
        except (OSError, AttributeError) as e:
            _failure = str(e)
    return _loaded


def failure() -> Optional[str]:
    return _failure


def main() -> int:
    if not enabled():
        print("native walk disabled (BPFCHECK_NATIVE=0)")
        return 0
    try:
        print(f"native pcap walk: {build()}")
    except OSError as e:
        print(f"native pcap walk not built ({e}); the pure-Python walk will be used")
    return 0


if __name__ == "__main__":
    sys.exit(main())
