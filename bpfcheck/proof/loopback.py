"""Witnesses that need a device, replayed on a real one: ``lo`` in a private netns.

A socket witness whose metadata is what an ``AF_UNIX`` datagram carries is
replayed through a socketpair (:func:`.session.confirm_on_kernel`).  One
that needs other metadata (a device, a ``pkttype``, a link-layer
header...) cannot be; but ``lo`` in a private network
namespace (:mod:`bpfcheck.oracles.packet`) is a device, and every frame
sent on it reaches packet taps twice, each copy with metadata the kernel
sets and the oracle measures.  So, once a witness is minimised:

* :meth:`Loopback.prefer` sends its packet on ``lo`` (padded to an
  Ethernet header when shorter) and, when the metadata of one of the
  copies still makes the witness do what it must (the caller's replay on
  the reference VM), takes that metadata — the witness is then an input
  the kernel really produces;
* :meth:`Loopback.confirm` sends it again with the program attached and
  compares the kernel's verdict on the copy with exactly that metadata.

Both answer None (nothing to say) where there is no such oracle: not
Linux, not root, a packet ``lo`` cannot carry.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional, Tuple

from ..context import Context
from ..errors import BpfcheckError, OracleUnavailable
from ..program import Program

Replay = Callable[[bytes, Context], bool]
#: fields no copy can pin: each filter run draws ``random`` afresh
_UNMEASURED = ("random",)


class Loopback:
    """``lo`` in a private namespace, opened when first needed and kept
    until :meth:`close` (opening one takes some 25 ms, a frame a few: a
    witness is chosen and confirmed in one)."""

    def __init__(self):
        self._namespace = None
        self._unavailable = False
        self._refused = set()       # programs the kernel would not attach (ENOMEM for big ones)

    def prefer(self, program: Program, packet: bytes, ctx: Context,
               replay: Replay) -> Optional[Tuple[bytes, Context]]:
        """The witness as a frame sent on ``lo`` (``packet``, zero-padded to
        the 14 bytes of an Ethernet header when shorter, or with the
        EtherType ``ctx.protocol`` names) with the metadata of one of its
        copies, when it still replays so — of the copies that do, the one
        closest to ``ctx``, the packet as it is first — or None."""
        from ..oracles.packet import MIN_FRAME
        frame = packet + bytes(max(0, MIN_FRAME - len(packet)))
        frames = [frame]
        if ctx.protocol and ctx.protocol != int.from_bytes(frame[12:14], "big"):
            # The copy lo sends has the frame's EtherType as its protocol.
            frames.append(frame[:12] + ctx.protocol.to_bytes(2, "big") + frame[14:])
        fitting = []
        for frame in frames:
            for copy in self._copies(program, frame) or ():
                candidate = copy.context.replace(**{name: getattr(ctx, name) for name in _UNMEASURED})
                if copy.frame == frame and replay(frame, candidate):
                    fitting.append((_distance(candidate, ctx, len(frame)), frame != frames[0], frame, candidate))
        if not fitting:
            return None
        _, _, frame, best = min(fitting, key=lambda choice: choice[:2])
        return frame, best

    def confirm(self, program: Program, packet: bytes, ctx: Context, verdict: int) -> Optional[bool]:
        """Whether the kernel returns ``verdict`` on the copy of ``packet``
        whose metadata is ``ctx``; None when no copy has it (or the verdict
        cannot be recovered: a program reading ``random``)."""
        for copy in self._copies(program, packet) or ():
            if copy.frame == packet and _distance(copy.context, ctx, len(packet)) == 0 \
                    and copy.verdict is not None:
                return copy.verdict == verdict
        return None

    def close(self) -> None:
        if self._namespace is not None:
            self._namespace.close()
            self._namespace = None

    def _copies(self, program: Program, packet: bytes) -> Optional[List]:
        from ..oracles.kernel import KernelRejected
        from ..oracles.packet import MAX_FRAME, MIN_FRAME, PacketNamespace
        if self._unavailable or program in self._refused or not MIN_FRAME <= len(packet) <= MAX_FRAME:
            return None
        try:
            if self._namespace is None:
                self._namespace = PacketNamespace()
            return self._namespace.run(program, [packet])[0]
        except OracleUnavailable:        # not Linux, not root, or the child died
            self._unavailable = True
            self.close()
        except KernelRejected:
            self._refused.add(program)
        except (BpfcheckError, OSError):
            pass
        return None


def _distance(a: Context, b: Context, length: int) -> int:
    """Fields in which two contexts differ (``random`` aside; a length
    that is the packet's own counts as unset)."""
    def fields(c):
        values = {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
        if values.get("len") == length:
            values["len"] = None
        for name in _UNMEASURED:
            values.pop(name, None)
        return values
    left, right = fields(a), fields(b)
    return sum(1 for name in left if left[name] != right.get(name))
