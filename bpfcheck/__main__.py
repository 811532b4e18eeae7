"""``python -m bpfcheck`` and the ``bpfcheck`` console script."""

import sys


def main(argv=None) -> int:
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
