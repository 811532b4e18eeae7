"""Pieces every subcommand shares: program arguments, targets, output."""

from __future__ import annotations

import json
import sys
from typing import Any, Dict

from ..context import Context
from ..errors import UsageError
from ..validate import TARGETS


def add_program_argument(parser, name: str = "FILE", optional_expr: bool = True) -> None:
    parser.add_argument(name.lower(), metavar=name, nargs="?" if optional_expr else None,
                        help="program file in any format (- for standard input)")
    parser.add_argument("--format", dest="fmt", metavar="FMT",
                        choices=("tcpdump", "c", "ddd", "asm", "xt_bpf", "raw"),
                        help="input format (default: detect)")
    if optional_expr:
        parser.add_argument("--expr", metavar="EXPR",
                            help="a tcpdump filter expression, compiled by libpcap, instead of FILE")
        parser.add_argument("--linktype", default="EN10MB",
                            help="link type for --expr (default EN10MB)")
        parser.add_argument("--unoptimized", action="store_true",
                            help="compile --expr without libpcap's optimizer")


def add_target_argument(parser, default: str = "socket") -> None:
    parser.add_argument("--target", default=default, choices=TARGETS,
                        help=f"whose rules apply (default {default})")


def add_json_argument(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def load_program_arg(args, attr: str = "file"):
    from ..loading import load_program
    return load_program(getattr(args, attr), fmt=args.fmt, expr=getattr(args, "expr", None),
                        linktype=getattr(args, "linktype", "EN10MB"),
                        optimize=not getattr(args, "unoptimized", False))


def seconds(text: str):
    """``--timeout S``: a positive number of seconds; ``inf`` is no limit (None)."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if value == float("inf"):
        return None
    if not value > 0:            # also refuses NaN
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, found {text!r}")
    return value


def add_timeout_argument(parser, default=None, help="seconds per solver question (default: no limit)"):
    parser.add_argument("--timeout", type=seconds, default=default, metavar="S", help=help)


def parse_int(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise UsageError(f"{what}: expected a number, found {text!r}") from None


_CONTEXT_BOOLS = {"has_device"}


def parse_context(specs) -> Context:
    """``--ctx ifindex=2,has_device=1 --ctx pkttype=4`` → Context."""
    fields: Dict[str, Any] = {}
    names = set(Context.__dataclass_fields__)
    for spec in specs or ():
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in names:
                raise UsageError(f"--ctx: expected FIELD=VALUE with FIELD one of "
                                 f"{', '.join(sorted(names))}; found {item!r}")
            value = value.strip()
            if key in _CONTEXT_BOOLS:
                fields[key] = value.lower() in ("1", "true", "yes", "on")
            elif value.lower() == "none" and key in ("len", "link_header"):
                fields[key] = None
            else:
                fields[key] = parse_int(value, f"--ctx {key}")
    try:
        return Context(**fields)
    except ValueError as e:
        raise UsageError(f"--ctx: {e}") from None


def write_output(path: str, data) -> None:
    """Write a result file atomically; a path that cannot be written (a
    directory, a missing folder, no permission) is a usage error."""
    from ..atomic import write_atomic
    try:
        write_atomic(path, data)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None


def check_output_path(path: str, option: str, directory: bool = False) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    import os
    if not path:
        raise UsageError(f"{option}: give a path")
    parent = os.path.dirname(os.path.abspath(path))
    if directory:
        if os.path.exists(path) and not os.path.isdir(path):
            raise UsageError(f"{option} {path}: exists and is not a directory")
    elif os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a directory; name a file")
    if not os.path.isdir(parent):
        raise UsageError(f"{option} {path}: no directory {parent}")


def emit_json(obj: Dict[str, Any]) -> None:
    json.dump(obj, sys.stdout, separators=(", ", ": "))
    sys.stdout.write("\n")
