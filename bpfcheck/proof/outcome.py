"""What a proof answers: a status, and a concrete input when it says no."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from ..context import Context, SeccompData

PROVED, REFUTED, UNKNOWN = "proved", "refuted", "unknown"


@dataclass(frozen=True)
class Witness:
    """A concrete input that shows a failure and replays on ``run``.

    ``packet``/``context`` for packet targets, ``seccomp`` for seccomp;
    ``verdicts`` maps each program involved ("a", "b", or "program") to its
    verdict on this input; ``rule`` names a guard that ended the run early
    ("load out of bounds" …) when one did; ``kernel`` says whether the
    running kernel confirmed it (None: not attempted or not possible).
    """

    target: str
    packet: Optional[bytes] = None
    context: Optional[Context] = None
    seccomp: Optional[SeccompData] = None
    verdicts: Dict[str, int] = field(default_factory=dict)
    rule: Optional[str] = None
    rule_pc: Optional[int] = None
    kernel: Optional[bool] = None
    note: Optional[str] = None

    def describe(self) -> str:
        """A one-line human summary (hex, and a scapy summary when it parses)."""
        if self.seccomp is not None:
            from ..syscalls import describe_seccomp
            text = describe_seccomp(self.seccomp)
        else:
            text = f"packet ({len(self.packet)} bytes) {self.packet.hex() or '(empty)'}"
            summary = packet_summary(self.packet, self.context, self.target)
            if summary:
                text += f"  [{summary}]"
            ctx = self.context.non_default() if self.context else {}
            if ctx:
                text += "  context " + ", ".join(f"{k}={_show(v)}" for k, v in ctx.items())
        if self.verdicts:
            text += "  verdicts " + ", ".join(f"{k}={v:#x}" for k, v in self.verdicts.items())
        if self.rule:
            text += f"  ({self.rule} at instruction {self.rule_pc})"
        return text

    def to_json(self) -> dict:
        obj = {"target": self.target, "verdicts": dict(self.verdicts)}
        if self.seccomp is not None:
            s = self.seccomp
            obj["seccomp"] = {"nr": s.nr, "arch": s.arch, "instruction_pointer": s.instruction_pointer,
                              "args": list(s.args)}
            try:
                from ..syscalls import describe_seccomp
                obj["syscall"] = describe_seccomp(s)
            except ImportError:   # pragma: no cover
                pass
        else:
            obj["packet"] = self.packet.hex()
            obj["context"] = self.context.non_default() if self.context else {}
            summary = packet_summary(self.packet, self.context, self.target)
            if summary:
                obj["summary"] = summary
        if self.rule:
            obj["rule"] = self.rule
            obj["rule_pc"] = self.rule_pc
        if self.kernel is not None:
            obj["kernel_confirmed"] = self.kernel
        if self.note:
            obj["note"] = self.note
        return obj


def _show(v):
    return f"{v:#x}" if isinstance(v, int) and not isinstance(v, bool) and v > 9 else v


def packet_summary(packet: bytes, context: Optional[Context], target: str = "socket") -> Optional[str]:
    """scapy's one-line summary of the packet, or None when scapy is missing
    or the bytes are not a frame it understands."""
    if not packet:
        return None
    try:
        # Imported here, as scapy is slow to import; importing inet binds
        # the IP layers into Ether.
        from scapy.layers import inet, inet6, l2   # noqa: F401
    except Exception:   # pragma: no cover - scapy is a dependency, but be robust
        return None
    try:
        return _decoder(packet, context, target)(packet).summary()
    except Exception:
        return None


#: EtherType values that make 14 leading bytes look like an Ethernet header
_ETHERTYPES = {0x0800, 0x0806, 0x8035, 0x8100, 0x86DD, 0x8847, 0x8848, 0x8863, 0x8864, 0x88A8,
               0x88CC, 0x88E5, 0x88F7, 0x9100}


def _decoder(packet: bytes, context: Optional[Context], target: str):
    """The scapy layer the witness most likely starts with.  A socket
    filter's loads are relative to wherever the socket's data starts: an
    Ethernet header on a packet socket, the network header on a raw or
    AF_UNIX one; a minimised witness leaves the bytes it does not need at
    zero, so an IP version nibble or a known EtherType tells them apart."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    if target == "pcap" or (context is not None and context.link_header is not None):
        return Ether
    version = packet[0] >> 4
    if version == 4 and packet[0] & 0x0F >= 5:
        return IP
    if version == 6:
        return IPv6
    if len(packet) >= 14 and int.from_bytes(packet[12:14], "big") in _ETHERTYPES:
        return Ether
    return Raw


@dataclass(frozen=True)
class Outcome:
    """``status`` is "proved", "refuted" or "unknown" (never a guess)."""

    status: str
    witness: Optional[Witness] = None
    reason: Optional[str] = None
    seconds: float = 0.0
    property: Optional[str] = None

    def __bool__(self) -> bool:
        return self.status == PROVED

    def to_json(self) -> dict:
        obj = {"status": self.status, "witness": self.witness.to_json() if self.witness else None,
               "reason": self.reason, "seconds": round(self.seconds, 3)}
        if self.property is not None:
            obj["property"] = self.property
        return obj


@dataclass(frozen=True)
class Finding:
    """A proved safety fact about a program, with an input that shows it."""

    kind: str            # "division-by-zero", "out-of-bounds", "no-device", "no-link-header"
    pc: int
    message: str
    witness: Optional[Witness] = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "pc": self.pc, "message": self.message,
                "witness": self.witness.to_json() if self.witness else None}


Ranges = Tuple[Tuple[int, int], ...]
