"""Names for every field of a classic BPF opcode, and the numbers around them.

Nothing here has behaviour: this is the vocabulary that the formats, the
validator and the semantics table share.  Values follow
``include/uapi/linux/bpf_common.h`` and ``include/uapi/linux/filter.h``.
"""

from __future__ import annotations

# --- instruction classes: code & 0x07 ------------------------------------
LD, LDX, ST, STX, ALU, JMP, RET, MISC = range(8)
CLASS_NAMES = {LD: "ld", LDX: "ldx", ST: "st", STX: "stx", ALU: "alu",
               JMP: "jmp", RET: "ret", MISC: "misc"}

# --- load sizes: code & 0x18 ----------------------------------------------
W, H, B = 0x00, 0x08, 0x10
SIZE_BYTES = {W: 4, H: 2, B: 1}

# --- load modes: code & 0xe0 ----------------------------------------------
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0

# --- ALU and jump operations: code & 0xf0 ----------------------------------
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR = (
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0)
JA, JEQ, JGT, JGE, JSET = 0x00, 0x10, 0x20, 0x30, 0x40
ALU_NAMES = {ADD: "add", SUB: "sub", MUL: "mul", DIV: "div", OR: "or",
             AND: "and", LSH: "lsh", RSH: "rsh", NEG: "neg", MOD: "mod",
             XOR: "xor"}
JMP_NAMES = {JA: "ja", JEQ: "jeq", JGT: "jgt", JGE: "jge", JSET: "jset"}

# --- operand source: code & 0x08 ------------------------------------------
K, X = 0x00, 0x08
# --- return value source: code & 0x18 --------------------------------------
RET_K, RET_X, RET_A = 0x00, 0x08, 0x10
# --- misc operations: code & 0xf8 ------------------------------------------
TAX, TXA = 0x00, 0x80

MEMWORDS = 16          # scratch cells M[0..15]
MAXINSNS = 4096        # BPF_MAXINSNS: the kernel's length limit
U32 = 0xFFFFFFFF


def bpf_class(code: int) -> int:
    return code & 0x07


def bpf_size(code: int) -> int:
    return code & 0x18


def bpf_mode(code: int) -> int:
    return code & 0xE0


def bpf_op(code: int) -> int:
    return code & 0xF0


def bpf_src(code: int) -> int:
    return code & 0x08


def bpf_rval(code: int) -> int:
    return code & 0x18


def bpf_miscop(code: int) -> int:
    return code & 0xF8


# --- ancillary data ("extensions"): ld [SKF_AD_OFF + n] --------------------
SKF_AD_OFF = 0xFFFFF000          # -0x1000 as an unsigned 32-bit k
SKF_NET_OFF = 0xFFF00000         # -0x100000
SKF_LL_OFF = 0xFFE00000          # -0x200000

SKF_AD_PROTOCOL = 0
SKF_AD_PKTTYPE = 4
SKF_AD_IFINDEX = 8
SKF_AD_NLATTR = 12
SKF_AD_NLATTR_NEST = 16
SKF_AD_MARK = 20
SKF_AD_QUEUE = 24
SKF_AD_HATYPE = 28
SKF_AD_RXHASH = 32
SKF_AD_CPU = 36
SKF_AD_ALU_XOR_X = 40
SKF_AD_VLAN_TAG = 44
SKF_AD_VLAN_TAG_PRESENT = 48
SKF_AD_PAY_OFFSET = 52
SKF_AD_RANDOM = 56
SKF_AD_VLAN_TPID = 60
SKF_AD_MAX = 64

#: every extension the kernel knows: offset -> (libpcap ``bpf_image`` name,
#: kernel ``bpf_asm`` name).  The two tools spell several of them differently.
EXTENSIONS = {
    SKF_AD_PROTOCOL: ("proto", "proto"),
    SKF_AD_PKTTYPE: ("type", "type"),
    SKF_AD_IFINDEX: ("ifidx", "ifidx"),
    SKF_AD_NLATTR: ("nla", "nla"),
    SKF_AD_NLATTR_NEST: ("nlan", "nlan"),
    SKF_AD_MARK: ("mark", "mark"),
    SKF_AD_QUEUE: ("queue", "queue"),
    SKF_AD_HATYPE: ("hatype", "hatype"),
    SKF_AD_RXHASH: ("rxhash", "rxhash"),
    SKF_AD_CPU: ("cpu", "cpu"),
    SKF_AD_ALU_XOR_X: ("xor_x", None),       # bpf_asm has no name for it
    SKF_AD_VLAN_TAG: ("vlan_tci", "vlan_tci"),
    SKF_AD_VLAN_TAG_PRESENT: ("vlanp", "vlan_avail"),
    SKF_AD_PAY_OFFSET: ("poff", "poff"),
    SKF_AD_RANDOM: ("random", "rand"),
    SKF_AD_VLAN_TPID: ("vlan_tpid", "vlan_tpid"),
}


def extension_of(k: int) -> int | None:
    """The SKF_AD_* number an absolute load of ``k`` names, or None."""
    if k >= SKF_AD_OFF:
        n = k - SKF_AD_OFF
        if n in EXTENSIONS:
            return n
    return None


def signed32(v: int) -> int:
    v &= U32
    return v - (1 << 32) if v & 0x80000000 else v


# --- seccomp ---------------------------------------------------------------
SECCOMP_DATA_SIZE = 64
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF
SECCOMP_ACTIONS = {
    "KILL_PROCESS": SECCOMP_RET_KILL_PROCESS,
    "KILL_THREAD": SECCOMP_RET_KILL_THREAD,
    "KILL": SECCOMP_RET_KILL_THREAD,
    "TRAP": SECCOMP_RET_TRAP,
    "ERRNO": SECCOMP_RET_ERRNO,
    "USER_NOTIF": SECCOMP_RET_USER_NOTIF,
    "TRACE": SECCOMP_RET_TRACE,
    "LOG": SECCOMP_RET_LOG,
    "ALLOW": SECCOMP_RET_ALLOW,
}
