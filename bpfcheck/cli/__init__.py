"""The command line: a thin shell over one library call per subcommand.

Every documented error becomes one line on standard error (or one JSON
object with ``--json``) and an exit code; nothing else may escape.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from ..errors import BpfcheckError, UsageError

EXIT_CODES = """exit codes:
  0  fine (valid, proved, equivalent, no differences)
  1  a finding (invalid, refuted, not equivalent, differences)
  2  bad input or usage (one line on standard error)
  3  unknown (a timeout or a resource limit)"""


#: exit code of a bug in bpfcheck itself (EX_SOFTWARE), never of bad input
INTERNAL_ERROR = 70


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2 via UsageError."""

    def error(self, message):
        raise UsageError(f"{self.prog.replace('bpfcheck ', '', 1)}: {message}"
                         if self.prog != "bpfcheck" else message)


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The whole command line; with ``command``, the command modules are
    registered only until one provides it (a quick ``run`` need not build
    and import every other subcommand).  Without it, or when no module
    has it, every subcommand is there, as ``--help`` and errors show."""
    parser = _Parser(prog="bpfcheck", description="Read, validate, run, prove and "
                     "differentially test classic BPF filters (socket, seccomp, libpcap).",
                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=_Parser)
    for module in _command_modules():
        module.register(sub)
        if command is not None and command in sub.choices:
            break
    return parser


#: the modules that register subcommands, in --help order
COMMAND_MODULES = ("basic", "proving", "diffing", "fuzzing", "seccomp", "corpus", "coverage", "demo")


def _command_modules():
    """The command modules, imported one at a time as they are asked for."""
    import importlib
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise           # a real missing dependency, not an absent command module
            continue
        yield module


def _command_in(argv: List[str]) -> Optional[str]:
    """The subcommand ``argv`` names: its first word that is not an option."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def _version() -> str:
    from .. import __version__
    return f"bpfcheck {__version__}"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    want_json = "--json" in argv
    try:
        parser = build_parser(_command_in(argv))
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return 2
        return args.handler(args)
    except BpfcheckError as e:
        return report_error(e, want_json)
    except KeyboardInterrupt:
        print("bpfcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug: still one line, but a distinct exit code
        if os.environ.get("BPFCHECK_DEBUG"):
            raise
        print(f"bpfcheck: internal error: {type(e).__name__}: {e} "
              "(set BPFCHECK_DEBUG=1 for the traceback)", file=sys.stderr)
        return INTERNAL_ERROR


def report_error(e: BpfcheckError, want_json: bool) -> int:
    message = " ".join(str(e).split()) or type(e).__name__
    if want_json:
        obj = {"status": "error", "message": message, "kind": type(e).__name__}
        if e.exit_code == 3:             # a limit reached: no answer, and why
            obj.update(status="unknown", reason=message)
        print(json.dumps(obj))
    print(f"bpfcheck: {'unknown' if e.exit_code == 3 else 'error'}: {message}", file=sys.stderr)
    return e.exit_code if e.exit_code in (1, 2, 3) else 2
