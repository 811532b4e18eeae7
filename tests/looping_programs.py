"""Random libpcap programs with loops (backward ``ja``), like the ones
``ip6 protochain`` compiles to, for the pcap target (the only one whose
rules allow jumping backwards).

Each loop walks the packet: its head loads a byte at ``[x + k]`` and every
iteration moves X forward, so every run ends — by a load falling off the
packet at the latest.  Between head and back jump come arithmetic on A,
scratch cells and jumps out of the loop to the returns at the end.
"""

from __future__ import annotations

from hypothesis import strategies as st

LDX_K, LDB_IND = 0x01, 0x50
TXA, TAX = (0x87, 0, 0, 0), (0x07, 0, 0, 0)
ST, LD_MEM, JA, RET_K, RET_A = 0x02, 0x60, 0x05, 0x06, 0x16
ALU_K = (0x04, 0x54, 0x44, 0xA4, 0x74, 0x24)       # add, and, or, xor, rsh, mul
JUMPS_K = (0x15, 0x25, 0x35, 0x45)                  # jeq, jgt, jge, jset
EXIT = object()       # a jump placeholder: out of the loop, to return number n


@st.composite
def looping_programs(draw):
    body = [(LDB_IND, 0, 0, draw(st.integers(0, 20)))]            # the head
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["alu", "scratch", "exit"]))
        if kind == "alu":
            op = draw(st.sampled_from(ALU_K))
            k = draw(st.integers(0, 7)) if op == 0x74 else draw(st.sampled_from([0, 1, 3, 0x40, 0xFF, 0x1000]))
            body.append((op, 0, 0, k))
        elif kind == "scratch":
            cell = draw(st.integers(0, 3))
            body += [(ST, 0, 0, cell), (LD_MEM, 0, 0, cell)]
        else:
            body.append((draw(st.sampled_from(JUMPS_K)), EXIT, draw(st.integers(0, 2)),
                         draw(st.sampled_from([0, 1, 6, 0x11, 0x2B, 0x80, 0xFF]))))
    body += [TXA, (0x04, 0, 0, draw(st.integers(1, 9))), TAX]        # X moves on
    head = 1
    prologue = [(LDX_K, 0, 0, draw(st.integers(0, 30)))]
    insns = prologue + body
    back = len(insns)
    insns.append((JA, 0, 0, (head - (back + 1)) & 0xFFFFFFFF))
    returns = [(RET_K, 0, 0, draw(st.sampled_from([0, 1, 0x40000, 0xFFFF]))) for _ in range(2)]
    returns.append((RET_A, 0, 0, 0) if draw(st.booleans()) else (RET_K, 0, 0, 7))
    first_return = len(insns)
    out = []
    for pc, (code, jt, jf, k) in enumerate(insns):
        if jt is EXIT:
            jt, jf = first_return + jf - (pc + 1), 0
        out.append((code, jt, jf, k))
    return out + returns

