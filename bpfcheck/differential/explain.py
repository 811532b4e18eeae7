"""Naming the documented dialect rule behind a difference.

A difference is a *dialect* difference when bpfcheck's own model of the
other implementation (its target's rules, the input as that
implementation sees it) gives that implementation's answer; this module
only says *which* rule made the difference, for the report.  It replays
both runs on the reference VM, recording A and X before every executed
instruction, and looks for the instructions whose meaning differs between
the two sides: extension loads, negative and wrapped offsets, shifts by
X >= 32, scratch reads before any write, device and link-layer loads
without a device, ``len`` beyond the captured bytes.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple

from .. import isa
from ..context import Context
from ..errors import ExecutionError
from ..program import Program
from ..vm import Machine
from .values import Input


class Step(NamedTuple):
    pc: int
    a: int
    x: int


def recorded_steps(program: Program, target: str, inp: Input) -> List[Step]:
    """The instructions one reference run executes, with A and X on entry.

    The handlers the VM dispatches to are wrapped (on this one machine
    only) to note their registers before running: the run itself is the
    reference VM's, unchanged."""
    machine = Machine(program, target)
    steps: List[Step] = []

    def recording(pc, handler):
        def step(insn, a, x, mem, dom, env):
            steps.append(Step(pc, a, x))
            return handler(insn, a, x, mem, dom, env)
        return step

    machine._handlers = [h if h is None else recording(pc, h) for pc, h in enumerate(machine._handlers)]
    try:
        machine.run(inp.value, inp.context)
    except ExecutionError:
        pass
    return steps


_DEVICE = {isa.SKF_AD_OFF + isa.SKF_AD_IFINDEX: "ifidx", isa.SKF_AD_OFF + isa.SKF_AD_HATYPE: "hatype"}
#: the Context field each metadata extension reads
_FIELDS = {isa.SKF_AD_PROTOCOL: "protocol", isa.SKF_AD_PKTTYPE: "pkttype", isa.SKF_AD_MARK: "mark",
           isa.SKF_AD_QUEUE: "queue_mapping", isa.SKF_AD_RXHASH: "rxhash", isa.SKF_AD_CPU: "cpu",
           isa.SKF_AD_VLAN_TAG: "vlan_tci", isa.SKF_AD_VLAN_TAG_PRESENT: "vlan_present",
           isa.SKF_AD_VLAN_TPID: "vlan_tpid", isa.SKF_AD_PAY_OFFSET: "payload_offset",
           isa.SKF_AD_RANDOM: "random"}


class Rule(NamedTuple):
    """One documented dialect rule seen firing: ``family`` names the rule
    at one instruction whatever the values (``diff`` groups differences by
    it), ``text`` says it with this run's values."""

    family: str
    text: str


def _rules_on(program: Program, steps: List[Step], ctx: Optional[Context], other: Optional[Context],
              our_target: str, their_target: str, lens_differ: bool,
              names: Tuple[str, str] = ("bpfcheck", "the other side")) -> List[Rule]:
    """The rules that fire on one run (``steps``, under ``ctx``); ``other``
    is the other side's context, ``names`` (this side, the other) word
    the values."""
    ctx, other = ctx or Context(), other or Context()
    rules: List[Rule] = []
    written = set()
    pcap_side = "pcap" in (our_target, their_target) and our_target != their_target
    for pc, a, x in steps:
        code, _, _, k = program[pc]
        cls, mode, op = code & 0x07, code & 0xE0, code & 0xF0
        at = f"instruction {pc}"
        if cls in (isa.ST, isa.STX):
            written.add(k)
        elif cls in (isa.LD, isa.LDX) and mode == isa.MEM and k not in written and pcap_side:
            tail = ("before any write: the kernel refuses such programs, libpcap reads whatever "
                    "is there (the oracle zeroes it)")
            rules.append(Rule(f"{at} reads M[{k}] {tail}", f"{at} reads M[{k}] {tail}"))
        if cls == isa.LD and mode == isa.ABS:
            ext = isa.extension_of(k)
            if ext is not None and pcap_side:
                text = (f"{at} loads the Linux extension {isa.EXTENSIONS[ext][0]}: libpcap has no "
                        "extensions (an out-of-bounds load there)")
                rules.append(Rule(text, text))
            elif k in _DEVICE and ctx.has_device != other.has_device:
                text = (f"{at} loads {_DEVICE[k]}: with no device (AF_UNIX) the program ends there, "
                        "returning A")
                rules.append(Rule(text, text))
            elif ext in _FIELDS and getattr(ctx, _FIELDS[ext]) != getattr(other, _FIELDS[ext]):
                name = _FIELDS[ext]
                rules.append(Rule(
                    f"{at} reads {name}, which differs between the two sides (an AF_UNIX datagram "
                    "carries no metadata)",
                    f"{at} reads {name}: {getattr(ctx, name)} for {names[0]}, {getattr(other, name)} "
                    f"for {names[1]} (an AF_UNIX datagram carries no metadata)"))
            elif k >= 0x80000000 and pcap_side:
                rules.append(Rule(
                    f"{at} loads at a negative offset (network/link-relative in Linux): out of bounds "
                    "in libpcap",
                    f"{at} loads at the negative offset {isa.signed32(k):#x} (network/link-relative "
                    "in Linux): out of bounds in libpcap"))
            elif isa.SKF_LL_OFF <= k < isa.SKF_NET_OFF and ctx.link_header != other.link_header:
                text = f"{at} loads relative to the link-layer header, which an AF_UNIX datagram does not have"
                rules.append(Rule(text, text))
            elif isa.SKF_NET_OFF <= k < isa.SKF_AD_OFF and ctx.network_header != other.network_header:
                text = (f"{at} loads relative to the network header, which sits at a different offset "
                        "in the two contexts")
                rules.append(Rule(text, text))
        elif cls == isa.LD and mode == isa.IND:
            total = x + k
            if total >= 1 << 32 and pcap_side:
                rules.append(Rule(
                    f"{at}: X + k wraps around 2^32: the kernel reads at the wrapped offset, libpcap "
                    "refuses the load",
                    f"{at}: X + k = {x:#x} + {k:#x} wraps around 2^32: the kernel reads at the "
                    "wrapped offset, libpcap refuses the load"))
            elif total & isa.U32 >= 0x80000000 and pcap_side:
                rules.append(Rule(
                    f"{at}: X + k is a negative offset: out of bounds in libpcap",
                    f"{at}: X + k is the negative offset {isa.signed32(total):#x}: out of bounds in libpcap"))
        elif cls == isa.ALU and op in (isa.LSH, isa.RSH) and code & isa.X and x >= 32 and pcap_side:
            rules.append(Rule(
                f"{at} shifts by X >= 32: the kernel shifts by X & 31, libpcap gives 0",
                f"{at} shifts by X = {x}: the kernel shifts by X & 31 = {x & 31}, libpcap gives 0"))
        elif cls == isa.ALU and op in (isa.LSH, isa.RSH) and not code & isa.X and k >= 32 and pcap_side:
            rules.append(Rule(
                f"{at} shifts by a constant >= 32: the kernel refuses it, libpcap shifts by k & 31 (x86)",
                f"{at} shifts by the constant {k}: the kernel refuses it, libpcap shifts by k & 31 (x86)"))
        elif code in (isa.LD | isa.W | isa.LEN, isa.LDX | isa.W | isa.LEN) and lens_differ:
            text = (f"{at} reads len, which differs between the two sides (wire length against the "
                    "bytes actually delivered)")
            rules.append(Rule(text, text))
    return rules


def dialect_rules(program: Program, ours: Input, our_target: str, theirs: Input, their_target: str,
                  their_name: str) -> List[Rule]:
    """Why the two runs may legitimately differ: the rules that fired on
    either side, first occurrence first, without repeats."""
    program = Program(program)
    found: List[Rule] = []
    lens_differ = not ours.is_seccomp and ours.wirelen != theirs.wirelen
    sides = ((our_target, ours, theirs, ("bpfcheck", their_name)),
             (their_target, theirs, ours, (their_name, "bpfcheck")))
    for target, inp, other, names in sides:
        steps = recorded_steps(program, target, inp)
        for rule in _rules_on(program, steps, inp.context, other.context, our_target, their_target,
                              lens_differ, names):
            # one sentence per rule: the other side's run often fires it again
            if rule.family not in (r.family for r in found):
                found.append(rule)
    if not found and lens_differ:
        found.append(Rule(f"the wire length differs (bpfcheck against {their_name})",
                          f"the wire length differs ({ours.wirelen} here, {theirs.wirelen} for {their_name})"))
    if not found:
        text = (f"bpfcheck's model of {their_name} ({their_target} rules, its view of the input) "
                "gives the same answer")
        found.append(Rule(text, text))
    return found


def dialect_reasons(program: Program, ours: Input, our_target: str, theirs: Input, their_target: str,
                    their_name: str) -> List[str]:
    """:func:`dialect_rules`, as sentences with this run's values."""
    return [r.text for r in dialect_rules(program, ours, our_target, theirs, their_target, their_name)]


def validation_reasons(ours, theirs, model, their_name: str) -> List[str]:
    """Why the two sides judge the program differently (``model``:
    bpfcheck's own judgement under the other side's rules, an Acceptance)."""
    if model.accepted:
        return [f"{their_name}'s rules accept what bpfcheck's refuse here ({ours.detail})"]
    return [f"{their_name}'s rules refuse it: {model.detail}"]
