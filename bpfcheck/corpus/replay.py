"""Replaying a case's inputs: the reference VM, then the real implementations.

* socket: the reference VM, and the running kernel through an ``AF_UNIX``
  datagram pair (exact verdicts) for every packet whose context is what
  such a datagram carries (no ``context`` table, no ``wirelen``); other
  packets skip the kernel, and the check says so;
* pcap: the reference VM and libpcap's own ``bpf_filter``;
* seccomp: the reference VM and the kernel running the filter on the
  ``struct seccomp_data`` bytes (after the kernel's seccomp checker
  accepted it).

An implementation that is not available here (not Linux, no libpcap) is
skipped with a note, never counted as a pass or a failure.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from .. import isa
from ..context import Context, SeccompData
from ..errors import BpfcheckError, ExecutionError, OracleUnavailable, UsageError
from ..program import Program
from .case import Case, PacketCase, SyscallCase
from .results import ERROR, FAILED, PASSED, Check, Evidence

VM = "reference VM"
KERNEL = "kernel (AF_UNIX)"
KERNEL_SECCOMP = "kernel (seccomp_data)"
LIBPCAP = "libpcap"
NOT_AF_UNIX = "kernel skipped: this packet's context is not what an AF_UNIX datagram carries"


def show(verdict) -> str:
    if isinstance(verdict, BaseException):
        reason = getattr(verdict, "reason", None) or str(verdict)
        return f"no verdict ({reason})"
    return f"{verdict:#x}"


# --- packets ------------------------------------------------------------------------
def packet_context(case: Case, p: PacketCase) -> Optional[Context]:
    """The context a packet runs with; raises ValueError for a bad table."""
    fields = dict(p.context)
    if case.target == "pcap":
        return Context(len=p.wirelen)
    if p.wirelen is not None:
        fields.setdefault("len", p.wirelen)
    return Context(**fields) if fields else Context()


def scapy_layers() -> None:
    """Make scapy dissect past Ethernet: its IP/IPv6 bindings exist only
    once their modules are imported."""
    try:
        import scapy.layers.inet  # noqa: F401
        import scapy.layers.inet6  # noqa: F401
    except Exception:       # a summary is a nicety
        pass


def is_af_unix(case: Case, p: PacketCase) -> bool:
    return not p.context and p.wirelen is None


def summary_target(case: Case) -> str:
    """How to decode a case's packets for a one-line summary: tcpdump
    expressions for Ethernet read Ethernet frames, whatever the target."""
    if case.program.expr is not None and case.program.linktype.upper() in ("EN10MB", "ETHERNET"):
        return "pcap"
    return case.target


def packet_evidence(case: Case, data: bytes, ctx: Optional[Context], label: str) -> Evidence:
    from ..proof.outcome import packet_summary
    scapy_layers()
    text = f"packet ({len(data)} bytes) {data.hex() or '(empty)'}"
    summary = packet_summary(data, ctx, summary_target(case))
    if summary:
        text += f"  [{summary}]"
    extra = ctx.non_default() if ctx is not None else {}
    wirelen = extra.pop("len", None) if case.target == "pcap" else None
    if extra:
        text += "  context " + ", ".join(f"{k}={v}" for k, v in extra.items())
    if wirelen is not None:
        text += f"  wire length {wirelen}"
    return Evidence(text, data.hex(), extra, wirelen, name=label)


def replay_packets(case: Case, program: Program, machine) -> List[Check]:
    checks: List[Check] = []
    runs: List[Tuple[int, PacketCase, Optional[Context]]] = []
    for i, p in enumerate(case.packets):
        where = f"packets[{i}]"
        try:
            ctx = packet_context(case, p)
        except (TypeError, ValueError) as e:
            checks.append(Check("packet", where, p.label or "", f"a valid context: {e}", status=ERROR))
            continue
        check = Check("packet", where, p.label or "", show(p.verdict))
        check.got[VM] = show(_run(machine, p.data, ctx))
        check.evidence = packet_evidence(case, p.data, ctx, f"packet-{i}")
        checks.append(check)
        runs.append((len(checks) - 1, p, ctx))
    if case.target == "socket":
        _kernel_packets(case, program, checks, runs)
    elif case.target == "pcap":
        _libpcap_packets(program, checks, [(i, p.data, ctx.len) for i, p, ctx in runs])
    for c in checks:
        _settle(c)
    return checks


def _run(machine, data, ctx):
    try:
        return machine.run(data, ctx)
    except ExecutionError as e:
        return e


def reads_extension(program: Program, n: int) -> bool:
    k = isa.SKF_AD_OFF + n
    return any(isa.bpf_class(code) in (isa.LD, isa.LDX) and isa.bpf_mode(code) == isa.ABS and kk == k
               for code, _, _, kk in program)


def _kernel_packets(case: Case, program: Program, checks: List[Check], runs) -> None:
    chosen = [(i, p) for i, p, _ in runs if is_af_unix(case, p)]
    for i, p, _ in runs:
        if not is_af_unix(case, p):
            checks[i].notes.append(NOT_AF_UNIX)
    if not chosen:
        return
    if reads_extension(program, isa.SKF_AD_RANDOM):
        for i, _ in chosen:
            checks[i].notes.append("kernel skipped: the program reads SKF_AD_RANDOM, a fresh value per run")
        return
    cpu = 0 if reads_extension(program, isa.SKF_AD_CPU) else None
    try:
        from ..oracles.kernel import kernel_verdicts
        verdicts = kernel_verdicts(program, [p.data for _, p in chosen], cpu=cpu)
    except (OracleUnavailable, UsageError, OSError) as e:
        for i, _ in chosen:
            checks[i].notes.append(f"kernel skipped: {e}")
        return
    for (i, _), v in zip(chosen, verdicts):
        checks[i].got[KERNEL] = show(v)


def _libpcap_packets(program: Program, checks: List[Check], runs) -> None:
    if not runs:
        return
    try:
        from ..oracles.libpcap import bpf_filter_many
        verdicts = bpf_filter_many(program, [d for _, d, _ in runs], [w for _, _, w in runs],
                                   errors="return")
    except OracleUnavailable as e:
        for i, _, _ in runs:
            checks[i].notes.append(f"libpcap skipped: {e}")
        return
    for (i, _, _), v in zip(runs, verdicts):
        checks[i].got[LIBPCAP] = show(v)


def _settle(check: Check) -> None:
    if check.status == ERROR:
        return
    check.status = PASSED if all(v == check.expected for v in check.got.values()) else FAILED


# --- captures -------------------------------------------------------------------------------
def replay_pcaps(case: Case, program: Program, machine) -> List[Check]:
    from ..capture import context_for_frame
    from ..pcapio import read_packets
    checks = []
    for n, entry in enumerate(case.pcaps):
        where = f"pcap[{n}]"
        try:
            records = list(read_packets(case.resolve(entry.file)))
        except BpfcheckError as e:
            checks.append(Check("pcap", where, entry.file, f"a readable capture: {e}", status=ERROR))
            continue
        datas = [r.data for r in records]
        if case.target == "pcap":
            ctxs = [Context(len=r.wirelen) for r in records]
        else:   # as `bpfcheck run --pcap` runs a captured record
            ctxs = [context_for_frame(r.data, r.linktype, r.wirelen) for r in records]
        got = {VM: [_run(machine, d, c) for d, c in zip(datas, ctxs)]}
        if case.target == "pcap":
            try:
                from ..oracles.libpcap import bpf_filter_many
                got[LIBPCAP] = bpf_filter_many(program, datas, [r.wirelen for r in records], errors="return")
            except OracleUnavailable:
                pass
        checks.append(_capture_check(case, where, entry, got, datas, ctxs))
    return checks


def _capture_check(case, where, entry, got: Dict[str, list], datas, ctxs) -> Check:
    if entry.verdicts is not None:
        expected = list(entry.verdicts)
        check = Check("pcap", where, entry.file, f"{len(expected)} records")
        for name, values in got.items():
            if len(values) != len(expected):
                check.got[name] = f"{len(values)} records"
        if check.got:
            check.status = FAILED
            return check
        for i, want in enumerate(expected):
            wrong = {name: values[i] for name, values in got.items() if values[i] != want}
            if wrong:
                check.expected = f"record {i}: {show(want)}"
                check.got = {name: f"record {i}: {show(values[i])}" for name, values in got.items()}
                check.evidence = packet_evidence(case, datas[i], ctxs[i], f"{where}-record-{i}")
                check.status = FAILED
                return check
        check.expected = f"{len(expected)} verdicts as listed"
        check.got = {name: check.expected for name in got}
        return check
    want = entry.accepted
    check = Check("pcap", where, entry.file, f"{want} accepted")
    for name, values in got.items():
        errors = [v for v in values if isinstance(v, BaseException)]
        if errors:
            check.got[name] = f"{len(errors)} records with {show(errors[0])}"
        else:
            check.got[name] = f"{sum(1 for v in values if v)} accepted"
    _settle(check)
    return check


# --- syscalls -------------------------------------------------------------------------------
def seccomp_input(s: SyscallCase) -> SeccompData:
    """The ``struct seccomp_data`` a syscall entry names (names resolved for its arch)."""
    from ..syscalls import ARCHITECTURES, arch_name, arch_of_audit, resolve_name, syscall_number
    if isinstance(s.arch, str):
        arch = resolve_name("arch", s.arch)
        if arch is None:
            raise UsageError(f"unknown architecture {s.arch!r}")
    else:
        arch = s.arch
    nr = s.nr
    if isinstance(nr, str):
        name = arch_name(s.arch) if isinstance(s.arch, str) else arch_of_audit(arch)
        nr = syscall_number(s.nr, name) if name in ARCHITECTURES else None
        if nr is None:
            raise UsageError(f"no syscall {s.nr!r} on {s.arch!r}")
    return SeccompData(nr, arch, s.instruction_pointer, s.args)


def replay_syscalls(case: Case, program: Program, machine) -> List[Check]:
    from ..syscalls import describe_seccomp
    checks: List[Check] = []
    runs = []
    for i, s in enumerate(case.syscalls):
        where = f"syscalls[{i}]"
        try:
            data = seccomp_input(s)
        except (BpfcheckError, ValueError) as e:
            checks.append(Check("syscall", where, s.label or "", f"a valid syscall: {e}", status=ERROR))
            continue
        check = Check("syscall", where, s.label or describe_seccomp(data).split(" (nr")[0], show(s.verdict))
        check.got[VM] = show(machine.run(data))
        check.evidence = Evidence(describe_seccomp(data), seccomp={
            "nr": data.nr, "arch": data.arch, "instruction_pointer": data.instruction_pointer,
            "args": list(data.args)}, name=f"syscall-{i}")
        checks.append(check)
        runs.append((len(checks) - 1, data))
    if runs:
        try:
            from ..oracles.seccomp import seccomp_run_via_socket
            verdicts = seccomp_run_via_socket(program, [d for _, d in runs])
            for (i, _), v in zip(runs, verdicts):
                checks[i].got[KERNEL_SECCOMP] = show(v)
        except (OracleUnavailable, OSError) as e:
            for i, _ in runs:
                checks[i].notes.append(f"kernel skipped: {e}")
    for c in checks:
        _settle(c)
    return checks


def case_inputs(case: Case) -> Sequence[Tuple[object, Optional[Context], Evidence]]:
    """Every input of the case as ``(packet or SeccompData, context,
    evidence)``: for coverage and for the report's downloads."""
    out = []
    for i, p in enumerate(case.packets):
        try:
            ctx = packet_context(case, p)
        except (TypeError, ValueError):
            continue
        out.append((p.data, ctx, packet_evidence(case, p.data, ctx, p.label or f"packets[{i}]")))
    for s in case.syscalls:
        try:
            data = seccomp_input(s)
        except (BpfcheckError, ValueError):
            continue
        out.append((data, None, Evidence(s.label or "", seccomp={"nr": data.nr, "arch": data.arch})))
    return out
