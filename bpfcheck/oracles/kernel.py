"""The running kernel as a socket-filter oracle: an ``AF_UNIX`` datagram pair.

The filter is attached (``SO_ATTACH_FILTER``) to the receiving end and runs
synchronously inside the sender's ``send()``, so a non-blocking receive right
after it tells delivered from dropped with no timeout at all.  ``MSG_TRUNC``
makes the receive report the datagram's full (trimmed) length while copying
at most one byte, so big packets cost no copy.

What the kernel does with the verdict here (measured, 6.x): the receiver gets
``min(len(packet), verdict)`` bytes, nothing when the verdict is 0; an empty
datagram that passes arrives as ``b''`` (length 0), one that is dropped does
not arrive.  The packet carries ``Context(cpu=...)``: no device (``ld
[ifidx]``/``ld [hatype]`` end the program returning A), every other field 0
except ``SKF_AD_CPU`` (the CPU of the sender: pin it with ``cpu=``) and
``SKF_AD_RANDOM``.

Exact verdicts (also those at or above the packet's length) come from
:mod:`._exact`: a few extra runs with rewritten copies of the program.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import socket
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .. import isa
from ..context import Context
from ..errors import OracleUnavailable, UsageError, ValidationError
from ..program import Instruction, Program
from . import _exact
from ._fprog import SO_ATTACH_FILTER, SO_DETACH_FILTER, SOL_SOCKET, FilterProg

SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
#: socket buffers we ask for: room for a few maximum-size IP datagrams.
DEFAULT_BUFSIZE = 4 << 20
_RECV_FLAGS = socket.MSG_DONTWAIT | socket.MSG_TRUNC

_libc = ctypes.CDLL(None, use_errno=True)

PacketLike = Union[bytes, bytearray, memoryview]


class KernelRejected(ValidationError):
    """The kernel refused to attach the program.

    ``errno`` is what ``setsockopt``/``seccomp`` failed with: ``EINVAL`` for
    a program its checker rejects, ``ENOMEM`` when the (converted) filter
    is larger than ``net.core.optmem_max`` allows on a socket, ``EFAULT``
    and others for what they say.  ``pc`` is always None: the kernel does
    not say which instruction it disliked.
    """

    def __init__(self, errno: int, target: str = "socket"):
        self.errno = errno
        self.errname = _errno.errorcode.get(errno, str(errno))
        reason = f"the kernel refused the {target} filter: {self.errname} ({os.strerror(errno)})"
        if errno == _errno.ENOMEM and target == "socket":
            reason += f"; the converted filter is too large for net.core.optmem_max ({_optmem_max()})"
        super().__init__(reason, pc=None, target=target)


def _optmem_max() -> str:
    try:
        with open("/proc/sys/net/core/optmem_max") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def current_cpu() -> int:
    """The CPU the calling thread is running on right now."""
    cpu = _libc.sched_getcpu()
    if cpu < 0:
        raise OracleUnavailable(f"sched_getcpu failed: {os.strerror(ctypes.get_errno())}")
    return cpu


def attach_filter(sock: socket.socket, program: Program, target: str = "socket") -> None:
    """``SO_ATTACH_FILTER`` on any socket; raises :class:`KernelRejected`."""
    fprog = FilterProg(program)
    try:
        sock.setsockopt(SOL_SOCKET, SO_ATTACH_FILTER, fprog.header)
    except OSError as exc:
        raise KernelRejected(exc.errno, target) from None


class KernelSocket:
    """An ``AF_UNIX`` datagram pair with a filter on the receiving end.

    ``KernelSocket(program=None, cpu=None)``; a context manager.
    ``cpu`` pins the calling thread (``os.sched_setaffinity``) for the life
    of the socket so that ``SKF_AD_CPU`` is known: an int, or ``"current"``
    for the CPU the thread is on now; the previous affinity is restored on
    close.  :attr:`cpu` and :meth:`context` report it.

    Use it from the thread that created it (the pinning is per thread).
    """

    def __init__(self, program: Optional[Program] = None, *,
                 cpu: Union[None, int, str] = None, bufsize: int = DEFAULT_BUFSIZE):
        self._tx: Optional[socket.socket] = None
        self._rx: Optional[socket.socket] = None
        self._saved_affinity = None
        self.cpu: Optional[int] = None
        self.program: Optional[Program] = None
        self._tx, self._rx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._size_buffers(bufsize)
        self._buf = bytearray(1)
        # Bound methods and flags looked up once: the hot loop is two calls.
        self._send = self._tx.send
        self._recv_into = self._rx.recv_into
        try:
            if cpu is not None:
                self._pin(cpu)
            if program is not None:
                self.attach(program)
        except BaseException:
            self.close()                   # also undoes the pinning
            raise

    # --- set-up ---------------------------------------------------------------
    def _size_buffers(self, size: int) -> None:
        # As root the FORCE variants pass net.core.{w,r}mem_max; otherwise we
        # get what the limits allow, which still holds 64 KiB datagrams.
        for sock, force, plain in ((self._tx, SO_SNDBUFFORCE, socket.SO_SNDBUF),
                                   (self._rx, SO_RCVBUFFORCE, socket.SO_RCVBUF)):
            try:
                sock.setsockopt(SOL_SOCKET, force, size)
            except OSError:
                sock.setsockopt(SOL_SOCKET, plain, size)

    def _pin(self, cpu: Union[int, str]) -> None:
        if cpu == "current":
            cpu = current_cpu()
        if not isinstance(cpu, int) or isinstance(cpu, bool):
            raise UsageError(f"cpu={cpu!r}: give a CPU number or 'current'")
        allowed = os.sched_getaffinity(0)
        if cpu not in allowed:
            raise UsageError(f"cpu={cpu}: this thread may only run on CPUs {sorted(allowed)}")
        self._saved_affinity = allowed
        os.sched_setaffinity(0, {cpu})
        self.cpu = cpu

    @property
    def max_packet(self) -> int:
        """A safe upper bound on the packet size this pair carries."""
        return self._tx.getsockopt(SOL_SOCKET, socket.SO_SNDBUF) // 2 - 4096

    # --- filters ----------------------------------------------------------------
    def attach(self, program: Program) -> None:
        """Attach (replacing any previous filter).  Raises
        :class:`KernelRejected`, and then the previous filter stays."""
        program = Program(program)
        attach_filter(self._rx, program)
        self.program = program

    def detach(self) -> None:
        if self.program is not None:
            self._rx.setsockopt(SOL_SOCKET, SO_DETACH_FILTER, 0)
            self.program = None

    # --- running ----------------------------------------------------------------
    def send(self, packet: PacketLike) -> Optional[int]:
        """Bytes the receiver got (``min(len, verdict)``), None if dropped."""
        try:
            self._send(packet, socket.MSG_DONTWAIT)
        except OSError as exc:
            raise self._send_error(packet, exc) from None
        try:
            return self._recv_into(self._buf, 1, _RECV_FLAGS)
        except BlockingIOError:
            return None

    def run_many(self, packets: Iterable[PacketLike]) -> List[Optional[int]]:
        """:meth:`send` for each packet, with the per-packet work kept to
        one send and one receive system call."""
        send, recv_into, buf = self._send, self._recv_into, self._buf
        out: List[Optional[int]] = []
        append = out.append
        dontwait, flags = socket.MSG_DONTWAIT, _RECV_FLAGS
        packet = b""
        try:
            for packet in packets:
                send(packet, dontwait)
                try:
                    append(recv_into(buf, 1, flags))
                except BlockingIOError:
                    append(None)
        except OSError as exc:
            raise self._send_error(packet, exc) from None
        return out

    def verdict(self, packet: PacketLike) -> int:
        """The exact verdict the attached filter returns for ``packet``."""
        return self.verdicts([packet])[0]

    def verdicts(self, packets: Iterable[PacketLike]) -> List[int]:
        """Exact verdicts: one plain run each, then, for the packets
        delivered whole, a few runs of rewritten programs (``_exact``)."""
        if self.program is None:
            raise UsageError("attach a program before asking for verdicts")
        packets = [bytes(p) for p in packets]
        delivered = self.run_many(packets)
        result: List[Optional[int]] = [None] * len(packets)
        pending: Dict[int, List[int]] = {}
        for i, (packet, got) in enumerate(zip(packets, delivered)):
            if _exact.needs_chunks(got, len(packet)):
                pending.setdefault(_exact.chunk_width(len(packet)), []).append(i)
            else:
                result[i] = _exact.plain_verdict(got)
        if pending:
            self._run_chunks(packets, pending, result)
        return result  # type: ignore[return-value]

    def _run_chunks(self, packets: Sequence[bytes], pending: Dict[int, List[int]],
                    result: List[Optional[int]]) -> None:
        original = self.program
        assert original is not None
        try:
            for width, indices in sorted(pending.items()):
                try:
                    plans = _exact.chunk_programs(original, width, has_device=False)
                except ValueError as exc:
                    raise OracleUnavailable(str(exc)) from None
                chunks: Dict[int, List[Tuple[int, int]]] = {i: [] for i in indices}
                for shift, program in plans:
                    try:
                        attach_filter(self._rx, program)
                    except KernelRejected as exc:
                        raise OracleUnavailable(
                            f"the verdict-extracting copy of the program ({len(program)} "
                            f"instructions) was refused: {exc.reason}") from None
                    runs = self.run_many(packets[i] for i in indices)
                    for i, got in zip(indices, runs):
                        chunks[i].append((shift, _exact.chunk_of(got, len(packets[i]))))
                for i in indices:
                    result[i] = _exact.assemble(chunks[i])
        finally:
            attach_filter(self._rx, original)

    def _send_error(self, packet: PacketLike, exc: OSError) -> Exception:
        if exc.errno in (_errno.EMSGSIZE, _errno.ENOBUFS, _errno.EAGAIN):
            return UsageError(f"a packet of {len(packet)} bytes does not fit through the "
                              f"socket pair ({_errno.errorcode[exc.errno]}; "
                              f"about {self.max_packet} bytes is the limit)")
        return exc

    # --- what the filter sees ----------------------------------------------------
    def context(self, packet_len: Optional[int] = None) -> Context:
        """The :class:`Context` the filter runs with (``cpu`` is only known
        when pinned; otherwise 0 is a guess and :attr:`cpu` is None)."""
        return Context(len=packet_len, cpu=self.cpu or 0)

    # --- life cycle ----------------------------------------------------------------
    def close(self) -> None:
        for sock in (self._tx, self._rx):
            if sock is not None:
                sock.close()
        self._tx = self._rx = None
        if self._saved_affinity is not None:
            try:
                os.sched_setaffinity(0, self._saved_affinity)
            except OSError:
                pass
            self._saved_affinity = None

    def __enter__(self) -> "KernelSocket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # Only the sockets: restoring affinity from a finalizer could hit
        # whatever thread the garbage collector runs on.
        for sock in (getattr(self, "_tx", None), getattr(self, "_rx", None)):
            if sock is not None:
                sock.close()


# --- one-shot helpers ------------------------------------------------------------
def kernel_accepts(program: Program) -> Tuple[bool, int]:
    """``(True, 0)`` if the kernel attaches ``program`` as a socket filter,
    else ``(False, errno)`` (EINVAL: its checker refuses it; ENOMEM: too
    large for ``net.core.optmem_max``)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            attach_filter(sock, Program(program))
        except KernelRejected as exc:
            return False, exc.errno
    return True, 0


def kernel_run(program: Program, packets: Iterable[PacketLike], *,
               cpu: Union[None, int, str] = None) -> List[Optional[int]]:
    """Delivered lengths (None = dropped); raises :class:`KernelRejected`."""
    with KernelSocket(program, cpu=cpu) as ks:
        return ks.run_many(packets)


def kernel_verdicts(program: Program, packets: Iterable[PacketLike], *,
                    cpu: Union[None, int, str] = None) -> List[int]:
    """Exact verdicts; raises :class:`KernelRejected`, or
    :class:`OracleUnavailable` for a program that loads ``SKF_AD_RANDOM``
    (when some verdict is not below its packet's length)."""
    with KernelSocket(program, cpu=cpu) as ks:
        return ks.verdicts(packets)


# --- probing the metadata ---------------------------------------------------------
def probe_extensions(packet: PacketLike = b"", *, cpu: Union[None, int, str] = None) -> Dict[str, int]:
    """What every ``SKF_AD_*`` load returns for ``packet`` on this socket,
    read with exact verdicts (``ld [SKF_AD_OFF+n]; ret a``), keyed by the
    ``bpf_asm`` name (``xor_x`` for the one without).  ``ifidx`` and
    ``hatype`` are absent when loading them ends the program (no device);
    ``has_device`` says which.  ``rand`` is left out: it is a fresh value
    on every run, so it cannot be read exactly from several runs."""
    packet = bytes(packet)
    values: Dict[str, int] = {}
    with KernelSocket(cpu=cpu) as ks:
        for n, (pcap_name, asm_name) in sorted(isa.EXTENSIONS.items()):
            name = asm_name or pcap_name
            load = Instruction(isa.LD | isa.W | isa.ABS, 0, 0, isa.SKF_AD_OFF + n)
            if n in (isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE, isa.SKF_AD_RANDOM):
                continue
            ks.attach(Program([load, (isa.RET | isa.RET_A, 0, 0, 0)]))
            values[name] = ks.verdict(packet)
        # With no device the load ends the program returning A (here 1);
        # with one, the program goes on to return 2.
        ends = []
        for n in (isa.SKF_AD_IFINDEX, isa.SKF_AD_HATYPE):
            load = Instruction(isa.LD | isa.W | isa.ABS, 0, 0, isa.SKF_AD_OFF + n)
            ks.attach(Program([(isa.LD | isa.IMM, 0, 0, 1), load,
                               (isa.RET | isa.RET_K, 0, 0, 2)]))
            ends.append(ks.run_many([b"xx"])[0] == 1)
        values["has_device"] = int(not all(ends))
    return values
