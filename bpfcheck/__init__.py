"""bpfcheck: read, validate, run, prove and differentially test classic BPF.

The public interface is documented in INTERFACE.md; everything listed
there is importable from here.
"""

from ._lazy import lazy_getattr
from .context import Context, SeccompData
from .errors import (BpfcheckError, CompileError, ExecutionError, FormatError,
                     OracleUnavailable, ParseError, UsageError, ValidationError)
from .program import Instruction, Program
from .validate import validate
from .vm import Machine, Trace, run, trace

__version__ = "0.1.0"


def parse(text, fmt=None):
    """Read a program from any supported text format (``fmt=None`` detects it)."""
    from .formats import parse as _parse
    return _parse(text, fmt)


def compile(expr, linktype="EN10MB", optimize=True, snaplen=262144):  # noqa: A001 - the documented name
    """A tcpdump/libpcap filter expression compiled by libpcap itself."""
    from .oracles.libpcap import compile as _compile
    return _compile(expr, linktype=linktype, optimize=optimize, snaplen=snaplen)


_LAZY = {
    # z3 takes a moment to import: the proving names load on first use.
    "analyze": ("proof.analysis", "analyze"),
    "Analysis": ("proof.analysis", "Analysis"),
    "VerdictSet": ("proof.verdicts", "VerdictSet"),
    "prove": ("proof.prove", "prove"),
    "equivalent": ("proof.prove", "equivalent"),
    "subsumes": ("proof.prove", "subsumes"),
    "Outcome": ("proof.outcome", "Outcome"),
    "Witness": ("proof.outcome", "Witness"),
    "Finding": ("proof.outcome", "Finding"),
}


__getattr__ = lazy_getattr(__name__, globals(), _LAZY)


__all__ = ["Analysis", "Finding", "Outcome", "VerdictSet", "Witness", "analyze", "equivalent",
           "prove", "subsumes",

    "BpfcheckError", "CompileError", "Context", "ExecutionError", "FormatError",
    "Instruction", "Machine", "OracleUnavailable", "ParseError", "Program",
    "SeccompData", "Trace", "UsageError", "ValidationError", "compile", "parse",
    "run", "trace", "validate",
]
