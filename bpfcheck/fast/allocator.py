"""Keep freed memory in the process while a capture streams through.

The batch path allocates the same few dozen arrays for every chunk of a
capture (a reach mask, a column, a verdict vector per instruction), each a
few hundred KiB, and frees them again.  glibc returns blocks that size to
the kernel (mmap'd, or trimmed off the top of the heap) and takes them
back on the next chunk, page fault by page fault: for a million packets
that was a third of the filtering time, all of it in the kernel.  Raising
the two thresholds keeps them: the working set stays one chunk's arrays,
so peak memory is unchanged, it just stops being handed back and forth.

Only for the command line's ``run --pcap``: a library caller's process is
theirs to tune.
"""

from __future__ import annotations

import sys

#: mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: blocks below this come from the heap; free memory above the heap's top
#: below the trim threshold stays there
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as above; False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
