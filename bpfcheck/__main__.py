"""``python -m bpfcheck`` and the ``bpfcheck`` console script."""

import os
import sys


def main(argv=None) -> int:
    # numpy's BLAS starts a thread per core as it is imported and bpfcheck
    # never multiplies a matrix: one thread makes `run --pcap` start ~10 ms
    # sooner and leaves the other core to the capture reader.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        # Ctrl-C while the command modules are still loading: the same one
        # line and exit code as an interrupt once running, not a traceback.
        print("bpfcheck: interrupted", file=sys.stderr)
        return 130
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
