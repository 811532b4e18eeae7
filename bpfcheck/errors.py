"""The exceptions bpfcheck raises on purpose.

Every one of them is a :class:`BpfcheckError`; the command line turns each
into one line on standard error and the exit code in ``exit_code``.
Anything else escaping is a bug.
"""

from __future__ import annotations


class BpfcheckError(Exception):
    """Base of every documented error."""

    exit_code = 2


class UsageError(BpfcheckError, ValueError):
    """A bad argument or combination of arguments."""


class ParseError(BpfcheckError, ValueError):
    """Text (or bytes) that is not a program in the expected format."""

    def __init__(self, message: str, line: int | None = None, fmt: str | None = None):
        self.message = message
        self.line = line
        self.fmt = fmt
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}")


class FormatError(BpfcheckError, ValueError):
    """A program that a text format cannot carry exactly."""

    def __init__(self, message: str, pc: int | None = None, fmt: str | None = None):
        self.message = message
        self.pc = pc
        self.fmt = fmt
        where = f"instruction {pc}: " if pc is not None else ""
        super().__init__(f"{where}{message}")


class CompileError(BpfcheckError, ValueError):
    """libpcap refused a filter expression."""


class OracleUnavailable(BpfcheckError, RuntimeError):
    """A real implementation (kernel feature, libpcap) is not usable here."""


class ExecutionError(BpfcheckError, RuntimeError):
    """Running the program has no verdict: the target would crash or hang.

    libpcap's userland ``bpf_filter`` calls ``abort()`` on opcodes that its
    ``bpf_validate`` lets through, and loops forever on some backward jumps.
    """

    exit_code = 1

    def __init__(self, reason: str, pc: int | None = None):
        self.reason = reason
        self.pc = pc
        where = f"instruction {pc}: " if pc is not None else ""
        super().__init__(f"{where}{reason}")


class ValidationError(BpfcheckError, ValueError):
    """The target refuses the program.  Subclasses name the reason.

    ``pc`` is the offending instruction (``None`` for whole-program faults
    such as the length) and ``reason`` one sentence.
    """

    exit_code = 1

    def __init__(self, reason: str, pc: int | None = None, target: str = "socket"):
        self.reason = reason
        self.pc = pc
        self.target = target
        where = f"instruction {pc}: " if pc is not None else ""
        super().__init__(f"{where}{reason}")


class ResourceLimit(BpfcheckError, RuntimeError):
    """A limit the user set (solver memory, time) was reached before an
    answer: the answer is unknown, not wrong (exit code 3)."""

    exit_code = 3
