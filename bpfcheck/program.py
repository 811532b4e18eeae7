"""Instructions and programs: the raw ``struct sock_filter`` form.

The raw ``(code, jt, jf, k)`` quadruple is the identity of an instruction;
everything else (mnemonics, formats, typed views) is derived from it, so
unknown opcodes and ignored fields survive every round trip.
"""

from __future__ import annotations

import struct
from typing import Iterable, Iterator, Sequence, Union

from .errors import ParseError

_SOCK_FILTER = struct.Struct("<HBBI")


class Instruction(tuple):
    """One ``struct sock_filter``: u16 code, u8 jt, u8 jf, u32 k.

    A tuple underneath, so it is immutable, compares and hashes by value,
    and ``Instruction(0x28, 0, 0, 12) == (0x28, 0, 0, 12)``.
    """

    __slots__ = ()

    def __new__(cls, code: int, jt: int = 0, jf: int = 0, k: int = 0) -> "Instruction":
        for name, value, limit in (("code", code, 0xFFFF), ("jt", jt, 0xFF),
                                   ("jf", jf, 0xFF), ("k", k, 0xFFFFFFFF)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Instruction {name} must be an int, not {value!r}")
            if not 0 <= value <= limit:
                raise ValueError(f"Instruction {name}={value} does not fit "
                                 f"(0..{limit:#x})")
        return tuple.__new__(cls, (code, jt, jf, k))

    code = property(lambda self: self[0], doc="u16 opcode")
    jt = property(lambda self: self[1], doc="u8 jump-if-true skip")
    jf = property(lambda self: self[2], doc="u8 jump-if-false skip")
    k = property(lambda self: self[3], doc="u32 generic operand")

    def __repr__(self) -> str:
        return f"Instruction({self[0]:#04x}, {self[1]}, {self[2]}, {self[3]:#x})"

    def __str__(self) -> str:
        # bpf_asm syntax; never raises, even for opcodes nothing accepts.
        from .formats.asm import describe
        return describe(self)

    def __getnewargs__(self):
        return tuple(self)


InstructionLike = Union[Instruction, Sequence[int]]


def _as_instruction(item: InstructionLike) -> Instruction:
    if isinstance(item, Instruction):
        return item
    try:
        code, jt, jf, k = item
    except (TypeError, ValueError):
        raise TypeError(f"not an instruction: {item!r} "
                        "(expected Instruction or a (code, jt, jf, k) tuple)") from None
    return Instruction(code, jt, jf, k)


class Program(tuple):
    """An immutable sequence of instructions.

    Any length can be built, empty and over 4096 included: judging a
    program is :func:`bpfcheck.validate`'s job, not the constructor's.
    """

    __slots__ = ()

    def __new__(cls, insns: Iterable[InstructionLike] = ()) -> "Program":
        if isinstance(insns, Program):
            return insns
        return tuple.__new__(cls, (_as_instruction(i) for i in insns))

    def __getitem__(self, index):
        result = tuple.__getitem__(self, index)
        if isinstance(index, slice):
            return Program(result)
        return result

    def __iter__(self) -> Iterator[Instruction]:
        return tuple.__iter__(self)

    def __repr__(self) -> str:
        return "Program([" + ", ".join(
            f"({i[0]:#04x}, {i[1]}, {i[2]}, {i[3]:#x})" for i in self) + "])"

    def __str__(self) -> str:
        # bpf_asm text when it can express the program, else one readable
        # line per instruction: printing must never fail.
        from .errors import FormatError
        try:
            return self.format("asm", canonical=True)
        except FormatError:
            from .formats.asm import describe
            return "\n".join(f"{pc:4d}: {describe(insn)}" for pc, insn in enumerate(self))

    # --- raw bytes --------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes) -> "Program":
        """Read the kernel's array of 8-byte little-endian ``struct sock_filter``."""
        data = bytes(data)
        if len(data) % _SOCK_FILTER.size:
            raise ParseError(
                f"{len(data)} bytes is not a whole number of 8-byte "
                f"struct sock_filter records ({len(data) % 8} bytes left over)",
                fmt="raw")
        return cls(Instruction(*fields) for fields in _SOCK_FILTER.iter_unpack(data))

    def to_bytes(self) -> bytes:
        return b"".join(_SOCK_FILTER.pack(*insn) for insn in self)

    # --- text formats -----------------------------------------------------
    def format(self, fmt: str = "asm", canonical: bool = False) -> str:
        """Write the program in a text format (see :mod:`bpfcheck.formats`)."""
        from .formats import format_program
        return format_program(self, fmt, canonical=canonical)
