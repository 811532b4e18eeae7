"""``python buggy_bpfcheck.py ARGS``: the real command line with bugs planted
in the reference VM, for the interrupt tests only (never importable from
bpfcheck, so no user can switch it on by accident).

ALU instructions and conditional jumps run as a sibling (``add`` as
``sub``, ``or`` as ``xor``, ``jeq`` as ``jgt``, ...), each a bug class of
its own, so a ``bpfcheck fuzz`` campaign run through here finds and writes
findings within seconds — and keeps finding new ones — which is what
killing it at random moments needs.  Everything else — the campaign,
the corpus writer, signal handling, the oracles — is the real code.
"""

from __future__ import annotations

import functools
import sys

#: opcode -> the opcode whose meaning it is given: ALU operations with a
#: constant and with X, and conditional jumps (K and X), each a bug class
SWAPPED = {0x04: 0x14, 0x14: 0x04, 0x44: 0xA4, 0xA4: 0x44, 0x54: 0x44, 0x64: 0x74, 0x74: 0x64, 0x24: 0x04,
           0x0C: 0x1C, 0x1C: 0x0C, 0x4C: 0xAC, 0xAC: 0x4C, 0x5C: 0x4C, 0x6C: 0x7C, 0x7C: 0x6C, 0x2C: 0x0C,
           0x15: 0x25, 0x25: 0x15, 0x35: 0x45, 0x45: 0x35, 0x1D: 0x2D, 0x2D: 0x1D, 0x3D: 0x4D, 0x4D: 0x3D}


def buggy_machine(program, target):
    from bpfcheck.semantics import TABLES
    from bpfcheck.vm import Machine
    machine = Machine(program, target)
    table = TABLES[target]
    machine._handlers = [table[SWAPPED[insn[0]]] if insn[0] in SWAPPED else handler
                         for insn, handler in zip(machine.program, machine._handlers)]
    return machine


def main() -> int:
    import bpfcheck.fuzz
    from bpfcheck.cli import main as cli_main
    # The CLI imports run_campaign from bpfcheck.fuzz when the command runs.
    bpfcheck.fuzz.run_campaign = functools.partial(bpfcheck.fuzz.run_campaign, machine=buggy_machine,
                                                   fast=False)
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
