"""libpcap through ctypes: its compiler, validator, printer and interpreter.

Loads ``libpcap.so.0.8`` by that name (the runtime package ``libpcap0.8``;
no headers, no ``libpcap.so`` needed).  Anything missing raises
:class:`OracleUnavailable` at the first call, not at import.

``bpf_filter`` is libpcap's userland interpreter, guarded
(:mod:`._pcapguard`): a run that would make 1.10.3 abort, divide by a
constant zero, touch memory outside its arrays or jump outside the program
raises :class:`ExecutionError` naming the pc instead of taking the process
down; programs with a backward ``ja`` run in a forked child with a timeout
(``ExecutionError("libpcap loops forever ...")``).  M[] starts zeroed (1.10.3
itself leaves stack garbage there).
"""

from __future__ import annotations

import ctypes
import functools
import struct
import threading
from typing import Iterable, List, Optional, Sequence, Union

from ..errors import CompileError, ExecutionError, OracleUnavailable, UsageError
from ..program import Instruction, Program
from ._fork import Child, describe_status
from ._pcapguard import GuardedProgram, Hazard, backward_jumps, static_hazards

LIBRARY = "libpcap.so.0.8"
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
DEFAULT_LOOP_TIMEOUT = 1.0          # seconds a backward-jumping run may take

_lock = threading.Lock()            # the compiler and bpf_image are not reentrant
_lib = None


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


def _load():
    global _lib
    if _lib is not None:
        return _lib
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError as exc:
        raise OracleUnavailable(f"cannot load {LIBRARY} (install the libpcap0.8 package): {exc}") from None
    P = ctypes.c_void_p
    sigs = {
        "pcap_lib_version": (ctypes.c_char_p, []),
        "pcap_open_dead": (P, [ctypes.c_int, ctypes.c_int]),
        "pcap_close": (None, [P]),
        "pcap_compile": (ctypes.c_int, [P, ctypes.POINTER(_BpfProgram), ctypes.c_char_p,
                                        ctypes.c_int, ctypes.c_uint32]),
        "pcap_freecode": (None, [ctypes.POINTER(_BpfProgram)]),
        "pcap_geterr": (ctypes.c_char_p, [P]),
        "pcap_datalink_name_to_val": (ctypes.c_int, [ctypes.c_char_p]),
        "pcap_datalink_val_to_name": (ctypes.c_char_p, [ctypes.c_int]),
        "bpf_filter": (ctypes.c_uint, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint]),
        "bpf_validate": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_int]),
        "bpf_image": (ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_int]),
    }
    for name, (restype, argtypes) in sigs.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise OracleUnavailable(f"{LIBRARY} has no {name}") from None
        fn.restype, fn.argtypes = restype, argtypes
    _lib = lib
    return lib


def available() -> bool:
    try:
        _load()
    except OracleUnavailable:
        return False
    return True


def version() -> str:
    """``pcap_lib_version()``, e.g. ``'libpcap version 1.10.3 (with TPACKET_V3)'``."""
    return _load().pcap_lib_version().decode()


def linktype_value(linktype: Union[str, int]) -> int:
    """A DLT number from a name (``"EN10MB"``, ``"RAW"``, ``"LINUX_SLL2"``,
    with or without ``DLT_``) or from the number itself."""
    if isinstance(linktype, bool) or not isinstance(linktype, (str, int)):
        raise UsageError(f"linktype={linktype!r}: give a name such as 'EN10MB' or a DLT number")
    if isinstance(linktype, int):
        if not 0 <= linktype <= 0x7FFFFFFF:
            raise UsageError(f"linktype={linktype}: not a DLT number")
        return linktype
    name = linktype.strip()
    if name.upper().startswith("DLT_"):
        name = name[4:]
    if name.isascii() and name.isdigit():
        if len(name) > 10:
            raise UsageError(f"linktype={linktype}: not a DLT number")
        return linktype_value(int(name))
    value = _load().pcap_datalink_name_to_val(name.encode())
    if value < 0:
        raise UsageError(f"unknown link type {linktype!r} (libpcap knows names such as "
                         "EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL, IEEE802_11)")
    return value


def compile(expr: str, linktype: Union[str, int] = "EN10MB", optimize: bool = True,  # noqa: A001
            snaplen: int = 262144, netmask: int = PCAP_NETMASK_UNKNOWN) -> Program:
    """libpcap's compiler (``pcap_open_dead`` + ``pcap_compile``), as
    ``tcpdump -y LINKTYPE -dd EXPR`` would print it; a bad expression raises
    :class:`CompileError` with libpcap's own message."""
    lib = _load()
    dlt = linktype_value(linktype)
    if not isinstance(expr, str):
        raise UsageError(f"a filter expression is text, not {type(expr).__name__}")
    if isinstance(snaplen, bool) or not isinstance(snaplen, int) or not 1 <= snaplen <= 0x7FFFFFFF:
        raise UsageError(f"snaplen {snaplen!r}: expected 1..2147483647 bytes")
    with _lock:
        handle = lib.pcap_open_dead(dlt, snaplen)
        if not handle:
            raise OracleUnavailable(f"pcap_open_dead({dlt}, {snaplen}) failed")
        try:
            prog = _BpfProgram()
            if lib.pcap_compile(handle, ctypes.byref(prog), expr.encode(), int(bool(optimize)),
                                netmask & 0xFFFFFFFF) != 0:
                raise CompileError(lib.pcap_geterr(handle).decode(errors="replace"))
            try:
                raw = ctypes.string_at(prog.bf_insns, prog.bf_len * 8) if prog.bf_len else b""
            finally:
                lib.pcap_freecode(ctypes.byref(prog))
        finally:
            lib.pcap_close(handle)
    return Program.from_bytes(raw)


def bpf_validate(program: Program) -> bool:
    """libpcap's ``bpf_validate`` (checks classes, modes, jump bounds, the
    final ``ret``; not opcodes: see :func:`hazards`)."""
    program = Program(program)
    raw = program.to_bytes() or b"\0" * 8
    return bool(_load().bpf_validate(raw, len(program)))


def bpf_image(insn: Union[Instruction, Sequence[int]], pc: int = 0) -> str:
    """libpcap's one-line listing of an instruction, as ``tcpdump -d``
    prints it: ``(000) ldh      [12]``."""
    raw = struct.pack("<HBBI", *insn)
    with _lock:     # bpf_image writes into a static buffer
        return _load().bpf_image(raw, pc).decode()


# --- the interpreter ------------------------------------------------------------
def hazards(program: Program) -> List[Hazard]:
    """Instructions that would crash or misbehave in libpcap 1.10.3's
    ``bpf_filter`` if a run reached them (``Hazard(pc, reason)``)."""
    return static_hazards(Program(program))


def may_loop(program: Program) -> bool:
    """Whether the program has a backward ``ja`` (run in a child)."""
    return bool(backward_jumps(Program(program)))


@functools.lru_cache(maxsize=512)
def _guarded(program: Program) -> GuardedProgram:
    return GuardedProgram(program)


def _wirelen(packet: bytes, wirelen: Optional[int]) -> int:
    if wirelen is None:
        return len(packet)
    if not isinstance(wirelen, int) or not 0 <= wirelen <= 0xFFFFFFFF:
        raise UsageError(f"wirelen={wirelen!r} is not a u32")
    return wirelen


def bpf_filter(program: Program, packet: bytes, wirelen: Optional[int] = None, *,
               timeout: float = DEFAULT_LOOP_TIMEOUT) -> int:
    """libpcap's verdict for ``packet`` (captured bytes; ``wirelen`` is what
    ``ld #len`` returns, ``len(packet)`` by default).  Raises
    :class:`ExecutionError` where libpcap would crash or hang."""
    return bpf_filter_many(program, [packet], None if wirelen is None else [wirelen],
                           timeout=timeout)[0]


def bpf_filter_many(program: Program, packets: Iterable[bytes],
                    wirelens: Optional[Iterable[Optional[int]]] = None, *,
                    timeout: float = DEFAULT_LOOP_TIMEOUT, errors: str = "raise") -> list:
    """:func:`bpf_filter` on many packets, the program laid out once.

    ``errors="raise"`` raises the first :class:`ExecutionError`;
    ``errors="return"`` puts each one in the result list in place of a
    verdict.  ``timeout`` bounds each run of a program that may loop.
    """
    if errors not in ("raise", "return"):
        raise UsageError(f"errors={errors!r}: use 'raise' or 'return'")
    call = _load().bpf_filter
    guarded = _guarded(Program(program))
    packets = [bytes(p) for p in packets]
    lens = [None] * len(packets) if wirelens is None else list(wirelens)
    if len(lens) != len(packets):
        raise UsageError(f"{len(packets)} packets but {len(lens)} wire lengths")
    lens = [_wirelen(p, w) for p, w in zip(packets, lens)]
    if guarded.may_loop:
        return _run_in_child(guarded, call, packets, lens, timeout, errors)
    out: list = []
    run_raw = guarded.run_raw
    for packet, wl in zip(packets, lens):
        verdict, slot = run_raw(call, packet, wl)
        if slot < 0:
            out.append(verdict)
        elif errors == "raise":
            raise guarded.error(slot)
        else:
            out.append(guarded.error(slot))
    return out


_RECORD = struct.Struct("<iI")      # (slot or -1, verdict)


def _run_in_child(guarded: GuardedProgram, call, packets: List[bytes], lens: List[int],
                  timeout: float, errors: str) -> list:
    """Runs that may never end: a forked child streams one record per
    packet; a record that does not come within ``timeout`` means the run
    loops, and the child is killed and replaced for the packets left."""
    out: list = []
    while len(out) < len(packets):
        start = len(out)

        def work(fd: int, start: int = start) -> None:
            import os
            for packet, wl in zip(packets[start:], lens[start:]):
                verdict, slot = guarded.run_raw(call, packet, wl)
                os.write(fd, _RECORD.pack(slot, verdict))

        with Child(work) as child:
            while len(out) < len(packets):
                record = child.read_exact(_RECORD.size, timeout)
                if record is None or len(record) < _RECORD.size:
                    err = _child_failure(child, record, timeout)
                    if errors == "raise":
                        raise err
                    out.append(err)
                    break
                slot, verdict = _RECORD.unpack(record)
                if slot < 0:
                    out.append(verdict)
                elif errors == "raise":
                    raise guarded.error(slot)
                else:
                    out.append(guarded.error(slot))
    return out


def _child_failure(child: Child, record: Optional[bytes], timeout: float) -> ExecutionError:
    if record is not None:                  # end of file: the child died
        status = child.wait(1.0)
        if status is not None:
            return ExecutionError(f"libpcap's bpf_filter crashed ({describe_status(status)})")
    return ExecutionError(f"libpcap loops forever (no verdict within {timeout:g} s)")
