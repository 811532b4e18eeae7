"""Run ``bpfcheck ARGS...`` and report its peak resident memory.

``ru_maxrss`` of a child started by a large parent (the bench holds a
million packets) counts the parent's pages it had until ``exec``; the
kernel's per-address-space high-water mark (``VmHWM`` in
``/proc/self/status``) starts afresh at ``exec``, so the child reports it
itself, on standard error, as ``peak-rss-kib N``.
"""

import sys


def peak_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    from bpfcheck.cli import main
    status = main(sys.argv[1:])
    sys.stdout.flush()
    print(f"peak-rss-kib {peak_kib()}", file=sys.stderr)
    sys.exit(status)
