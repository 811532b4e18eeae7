"""The plain values a differential run passes around: inputs and outcomes.

An :class:`Input` is what one run reads: packet bytes with the socket
metadata (or, for libpcap, the wire length) it runs with, or a
:class:`~bpfcheck.context.SeccompData`.  An outcome is the verdict (a u32),
or :class:`NoVerdict` (the implementation would crash or hang: libpcap
aborts on some opcodes), or :class:`Delivered` (only the delivered length
is known: a kernel run of a program that reads ``SKF_AD_RANDOM``, whose
exact verdict cannot be assembled from several runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ..context import Context, SeccompData


@dataclass(frozen=True)
class Input:
    """``value``: packet bytes or SeccompData; ``context``: the metadata
    the packet runs with (None: ``Context()``, an AF_UNIX datagram; for
    libpcap only ``context.len``, the wire length, matters)."""

    value: Union[bytes, SeccompData]
    context: Optional[Context] = None

    @property
    def is_seccomp(self) -> bool:
        return isinstance(self.value, SeccompData)

    @property
    def length(self) -> int:
        return 64 if self.is_seccomp else len(self.value)

    @property
    def wirelen(self) -> int:
        """``ld #len`` for libpcap: the context's wire length, else the packet's."""
        if self.context is not None and self.context.len is not None:
            return self.context.len
        return self.length

    def to_json(self) -> dict:
        if self.is_seccomp:
            s = self.value
            return {"seccomp": {"nr": s.nr, "arch": s.arch, "instruction_pointer": s.instruction_pointer,
                                "args": list(s.args)}}
        out = {"packet": self.value.hex()}
        extra = self.context.non_default() if self.context is not None else {}
        if extra:
            out["context"] = extra
        return out

    def describe(self) -> str:
        if self.is_seccomp:
            from ..syscalls import describe_seccomp
            return describe_seccomp(self.value)
        data = self.value
        text = f"{len(data)} bytes {data[:24].hex()}{'...' if len(data) > 24 else ''}" if data else "0 bytes"
        extra = self.context.non_default() if self.context is not None else {}
        if extra:
            text += " (" + ", ".join(f"{k}={v}" for k, v in extra.items()) + ")"
        return text


@dataclass(frozen=True)
class NoVerdict:
    """The run has no verdict: the implementation would abort or hang."""

    reason: str
    pc: Optional[int] = None

    def __str__(self) -> str:
        where = f" at instruction {self.pc}" if self.pc is not None else ""
        return f"no verdict ({self.reason}{where})"


@dataclass(frozen=True)
class Delivered:
    """Only what a socket delivered is known: ``length`` bytes, None = dropped."""

    length: Optional[int]

    def __str__(self) -> str:
        return "dropped" if self.length is None else f"delivered {self.length} bytes"


Outcome = Union[int, NoVerdict, Delivered]


@dataclass(frozen=True)
class Acceptance:
    """Whether an implementation takes a program, and its words for why not."""

    accepted: bool
    detail: str = ""
    error: Optional[str] = None      # the ValidationError class name (bpfcheck's own judges)
    pc: Optional[int] = None

    def __str__(self) -> str:
        if self.accepted:
            return "accepted" + (f" ({self.detail})" if self.detail else "")
        return "rejected" + (f": {self.detail}" if self.detail else "")


def delivered_length(verdict: int, length: int) -> Optional[int]:
    """What a socket receives for ``verdict``: None when dropped."""
    return None if verdict == 0 else min(length, verdict)


def same(ours: Outcome, theirs: Outcome, length: int) -> bool:
    """Do two outcomes agree?  A :class:`Delivered` outcome is compared by
    delivered length; two runs with no verdict agree whatever their words."""
    if isinstance(theirs, Delivered) and isinstance(ours, int):
        return delivered_length(ours, length) == theirs.length
    if isinstance(ours, Delivered) and isinstance(theirs, int):
        return delivered_length(theirs, length) == ours.length
    if isinstance(ours, NoVerdict) or isinstance(theirs, NoVerdict):
        return isinstance(ours, NoVerdict) and isinstance(theirs, NoVerdict)
    return ours == theirs


def show(outcome: Outcome) -> str:
    return f"{outcome:#x}" if isinstance(outcome, int) else str(outcome)


def to_json(outcome: Outcome):
    """An int verdict, or an object saying why there is none."""
    if isinstance(outcome, int):
        return outcome
    if isinstance(outcome, Delivered):
        return {"delivered": outcome.length}
    return {"no_verdict": outcome.reason, "pc": outcome.pc}
