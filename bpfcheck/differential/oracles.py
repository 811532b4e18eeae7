"""One protocol for everything that judges and runs programs.

An :class:`Oracle` says whether it takes a program (:meth:`accepts`) and
what each input's outcome is (:meth:`run`); :meth:`view` is an input as
that implementation really sees it (a kernel ``AF_UNIX`` socket has no
device and no link-layer header whatever the caller's context says;
libpcap sees only the bytes and the wire length).

=======================  ===========  =========================================================
oracle                   ``target``   what
=======================  ===========  =========================================================
:class:`ReferenceOracle` any          bpfcheck's reference VM (``Machine``) and ``validate``
:class:`CompiledOracle`  any          bpfcheck's compiled fast path, same validator
:class:`KernelOracle`    socket,      the running kernel: ``SO_ATTACH_FILTER`` on an
                         seccomp      ``AF_UNIX`` pair, exact verdicts; seccomp filters checked
                                      by ``seccomp()`` in a forked child, run through the socket
                                      path with ``seccomp_data`` stored big-endian
:class:`LibpcapOracle`   pcap         libpcap's ``bpf_validate`` and (guarded) ``bpf_filter``
=======================  ===========  =========================================================
"""

from __future__ import annotations

import errno as _errno
import functools
from typing import Callable, Dict, List, Optional, Protocol, Sequence

from .. import isa
from ..context import Context
from ..errors import ExecutionError, OracleUnavailable, UsageError, ValidationError
from ..program import Program
from ..vm import Machine
from .values import Acceptance, Delivered, Input, NoVerdict, Outcome


class Oracle(Protocol):
    name: str          # how reports call it: "bpfcheck", "compiled", "kernel", "libpcap"
    target: str        # whose rules it follows: "socket", "seccomp" or "pcap"

    def accepts(self, program: Program) -> Acceptance: ...

    def run(self, program: Program, inputs: Sequence[Input]) -> List[Outcome]: ...

    def view(self, inp: Input) -> Input: ...


def _validation_acceptance(program: Program, target: str) -> Acceptance:
    from ..validate import validate
    try:
        validate(program, target)
    except ValidationError as e:
        where = f"instruction {e.pc}: " if e.pc is not None else ""
        return Acceptance(False, f"{type(e).__name__}: {where}{e.reason}", type(e).__name__, e.pc)
    return Acceptance(True)


class ReferenceOracle:
    """bpfcheck's reference VM.  ``machine(program, target)`` builds the
    VM (``Machine`` itself unless a test substitutes a broken one)."""

    name = "bpfcheck"

    def __init__(self, target: str = "socket", machine: Callable[[Program, str], Machine] = Machine,
                 name: Optional[str] = None):
        self.target = target
        self._make = machine
        self._last: Optional[Machine] = None
        if name:
            self.name = name

    def accepts(self, program: Program) -> Acceptance:
        return _validation_acceptance(program, self.target)

    def machine(self, program: Program) -> Machine:
        if self._last is None or self._last.program != program:
            self._last = self._make(Program(program), self.target)
        return self._last

    def run(self, program: Program, inputs: Sequence[Input]) -> List[Outcome]:
        machine = self.machine(program)
        out: List[Outcome] = []
        for inp in inputs:
            try:
                out.append(machine.run(inp.value, inp.context))
            except ExecutionError as e:
                out.append(NoVerdict(e.reason, e.pc))
        return out

    def trace(self, program: Program, inp: Input):
        """The reference run's Trace (path and verdict); None without a verdict."""
        try:
            return self.machine(program).trace(inp.value, inp.context)
        except ExecutionError:
            return None

    def view(self, inp: Input) -> Input:
        return inp


class CompiledOracle:
    """bpfcheck's compiled fast path (generated Python, cached per program)."""

    name = "compiled"

    def __init__(self, target: str = "socket"):
        self.target = target

    def accepts(self, program: Program) -> Acceptance:
        return _validation_acceptance(program, self.target)

    def run(self, program: Program, inputs: Sequence[Input]) -> List[Outcome]:
        from ..fast.compiled import compile_program, seccomp_words
        raw = compile_program(Program(program), self.target).raw
        default = Context()
        out: List[Outcome] = []
        for inp in inputs:
            try:
                if self.target == "seccomp":
                    out.append(raw(seccomp_words(inp.value)))
                elif self.target == "pcap":
                    out.append(raw(inp.value, inp.wirelen))
                else:
                    out.append(raw(inp.value, inp.context or default))
            except ExecutionError as e:
                out.append(NoVerdict(e.reason, e.pc))
        return out

    def view(self, inp: Input) -> Input:
        return inp


#: distinct expected verdicts confirmed one by one before extracting is cheaper
_MAX_CONFIRMATIONS = 4


class KernelOracle:
    """The running kernel.  ``target`` is ``"socket"`` or ``"seccomp"``;
    ``cpu`` pins the sending thread (see :class:`KernelSocket`) so that
    ``SKF_AD_CPU`` is known: an int, ``"current"``, or None (not pinned:
    programs reading the CPU may then differ).  ``share`` is another
    KernelOracle whose socket this one uses (and leaves to it to close)."""

    name = "kernel"

    def __init__(self, target: str = "socket", cpu=None, share: Optional["KernelOracle"] = None):
        if target not in ("socket", "seccomp"):
            raise UsageError(f"the kernel runs socket and seccomp filters, not {target!r} ones")
        self.target = target
        self._cpu = cpu
        self._socket = None
        self._share = share
        self._context: Optional[Context] = None

    @property
    def socket(self):
        if self._share is not None:
            return self._share.socket
        if self._socket is None:
            from ..oracles.kernel import KernelSocket
            self._socket = KernelSocket(cpu=self._cpu)
        return self._socket

    @property
    def context(self) -> Context:
        """What every packet carries here: an AF_UNIX datagram's metadata."""
        if self._context is None:
            self._context = Context(cpu=self.socket.cpu or 0)
        return self._context

    def view(self, inp: Input) -> Input:
        if inp.is_seccomp or inp.context is self.context:
            return inp
        return Input(inp.value, self.context)

    def accepts(self, program: Program) -> Acceptance:
        program = Program(program)
        if self.target == "seccomp":
            ok, err = _seccomp_accepts(program)
            return Acceptance(ok, "" if ok else f"seccomp() failed with {_errno.errorcode.get(err, err)}")
        from ..oracles.kernel import KernelRejected
        try:
            self._attach(program)
        except KernelRejected as e:
            if e.errno == _errno.ENOMEM:
                # past the checker; the converted filter is larger than
                # net.core.optmem_max allows one socket: a resource limit
                return Acceptance(True, "ENOMEM: passed the checker, too large for net.core.optmem_max")
            return Acceptance(False, f"SO_ATTACH_FILTER failed with {e.errname}")
        return Acceptance(True)

    def _attach(self, program: Program) -> None:
        ks = self.socket
        if ks.program != program:
            ks.attach(program)

    def run(self, program: Program, inputs: Sequence[Input]) -> List[Outcome]:
        program = Program(program)
        self._attach(program)
        if self.target == "seccomp":
            return list(self.socket.verdicts([inp.value.to_socket_packet() for inp in inputs]))
        packets = [inp.value for inp in inputs]
        if reads_random(program):
            # each run draws a fresh value: only the delivered length is real
            return [Delivered(n) for n in self.socket.run_many(packets)]
        return list(self.socket.verdicts(packets))

    def run_expecting(self, program: Program, inputs: Sequence[Input],
                      expected: Sequence[Outcome]) -> List[Outcome]:
        """:meth:`run`, faster when bpfcheck's answers are mostly right: a
        verdict hidden by the packet length is confirmed in one run of a
        rewritten program (:mod:`.confirm`) instead of extracted in six;
        whatever is not confirmed is extracted exactly."""
        from ..oracles.kernel import KernelRejected
        from .confirm import can_confirm, confirming_program
        program = Program(program)
        if not can_confirm(program):
            return self.run(program, inputs)
        packets = [inp.value.to_socket_packet() if inp.is_seccomp else inp.value for inp in inputs]
        self._attach(program)
        ks = self.socket
        delivered = ks.run_many(packets)
        out: List[Optional[Outcome]] = [None] * len(packets)
        pending: Dict[int, List[int]] = {}
        exact: List[int] = []
        for i, (packet, got, want) in enumerate(zip(packets, delivered, expected)):
            if got is None or got < len(packet):
                out[i] = 0 if got is None else got         # the verdict is in plain sight
            elif isinstance(want, int) and want >= max(1, len(packet)):
                pending.setdefault(want, []).append(i)
            else:
                exact.append(i)
        if len(pending) > _MAX_CONFIRMATIONS:              # too many values: extracting is cheaper
            exact += [i for group in pending.values() for i in group]
            pending = {}
        try:
            for value, group in pending.items():
                try:
                    ks.attach(confirming_program(program, value))
                except KernelRejected:                     # past a translation limit: extract
                    exact += group
                    continue
                for i, got in zip(group, ks.run_many([packets[i] for i in group])):
                    if got is None:
                        exact.append(i)
                    else:
                        out[i] = value
        finally:
            ks.attach(program)
        if exact:
            exact.sort()
            for i, verdict in zip(exact, ks.verdicts([packets[i] for i in exact])):
                out[i] = verdict
        return out  # type: ignore[return-value]

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._context = None


@functools.lru_cache(maxsize=1024)
def _seccomp_accepts(program: Program):
    from ..oracles.seccomp import kernel_seccomp_accepts
    return kernel_seccomp_accepts(program)


class LibpcapOracle:
    """libpcap 1.10: ``bpf_validate`` and the guarded ``bpf_filter`` (M[]
    zeroed, crashes and endless loops turned into :class:`NoVerdict`)."""

    name = "libpcap"
    target = "pcap"

    def __init__(self):
        from ..oracles import libpcap
        if not libpcap.available():
            raise OracleUnavailable("libpcap.so.0.8 is not installed (Debian package libpcap0.8)")
        self._lib = libpcap

    def accepts(self, program: Program) -> Acceptance:
        ok = self._lib.bpf_validate(Program(program))
        return Acceptance(ok, "" if ok else "bpf_validate refused it")

    def view(self, inp: Input) -> Input:
        """libpcap reads the bytes and the wire length, nothing else of a
        context: the input as it is (the pcap rules ignore the rest too)."""
        if inp.is_seccomp:
            raise UsageError("libpcap runs packets, not seccomp_data")
        return inp

    def run(self, program: Program, inputs: Sequence[Input]) -> List[Outcome]:
        got = self._lib.bpf_filter_many(Program(program), [i.value for i in inputs],
                                        [i.wirelen for i in inputs], errors="return")
        return [NoVerdict(v.reason, v.pc) if isinstance(v, ExecutionError) else v for v in got]


def reads_random(program: Program) -> bool:
    """Whether the program loads ``SKF_AD_RANDOM`` (a fresh value per run)."""
    rand = isa.SKF_AD_OFF + isa.SKF_AD_RANDOM
    return any(code & 0xE7 == (isa.LD | isa.ABS) and k == rand for code, _, _, k in program)


def random_pcs(program: Program) -> set:
    rand = isa.SKF_AD_OFF + isa.SKF_AD_RANDOM
    return {pc for pc, (code, _, _, k) in enumerate(program) if code & 0xE7 == (isa.LD | isa.ABS) and k == rand}


def oracle_named(name: str, target: str, cpu="current") -> Oracle:
    """``kernel`` (socket or seccomp rules), ``pcap``/``libpcap``, or
    ``bpfcheck``/``compiled`` for ``target``."""
    if name == "kernel":
        return KernelOracle("seccomp" if target == "seccomp" else "socket", cpu=cpu)
    if name in ("pcap", "libpcap"):
        if target == "seccomp":
            raise UsageError("libpcap cannot run seccomp filters: compare them --against kernel")
        return LibpcapOracle()
    if name == "bpfcheck":
        return ReferenceOracle(target)
    if name == "compiled":
        return CompiledOracle(target)
    raise UsageError(f"unknown implementation {name!r} (expected kernel or pcap)")
