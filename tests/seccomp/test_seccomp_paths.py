"""The path walker and the condition summaries that explain and diff print."""

import itertools

import z3

from bpfcheck import isa
from bpfcheck.seccomp import actions
from bpfcheck.seccomp.conditions import describe_ranges, summarise
from bpfcheck.seccomp.explain import explain
from bpfcheck.seccomp.paths import walk
from bpfcheck.seccomp.policy import Policy, combine, combine_z3

from seccomp_support import X86_64, asm

U32, U64 = 0xFFFFFFFF, (1 << 64) - 1
NASTY = [0, 1, 0x50001, 0x30000, 0x10000, 0x7FC00000, 0x7FF00005, 0x7FFC0000, 0x7FFF0000, 0x7FFF1234,
         0x80000000, 0x80001234, 0xFFFF0000]


def test_combine_over_z3_agrees_with_combine():
    for a, b, c in itertools.product(NASTY, repeat=3):
        term = z3.simplify(combine_z3([a, b, c]))
        assert term.as_long() == combine([a, b, c]), (hex(a), hex(b), hex(c))


def test_effective_and_describe():
    assert actions.effective(0x12340000) == isa.SECCOMP_RET_KILL_PROCESS
    assert actions.effective(0x51388) == 0x50FFF and actions.effective(0x7FFF0005) == 0x7FFF0000
    assert [actions.describe(v) for v in (0x50001, 0x51388, 0x30007, 0x7FFF0000, 0x10000)] == [
        "ERRNO(EPERM)", "ERRNO(5000, capped to 4095)", "TRAP(7)", "ALLOW",
        "0x10000 (unknown action: acts as KILL_PROCESS)"]
    assert actions.weaker(isa.SECCOMP_RET_ALLOW, 0x50001) and not actions.weaker(0x80000000, 0)
    assert actions.parse_action("ERRNO(EPERM)") == 0x50001 and actions.parse_action("SCMP_ACT_LOG") == 0x7FFC0000


def test_jumps_on_fixed_words_do_not_fork():
    p = asm("ld [4]\n jne #X86_64, kill\n ld [0]\n jeq #1, wr\n ret #ALLOW\n"
            "wr: ld [16]\n jgt #2, kill\n ret #ALLOW\n kill: ret #KILL_PROCESS")
    assert len(walk(p, {0: 0, 4: X86_64})) == 1
    paths = walk(p, {0: 1, 4: X86_64})
    assert sorted([str(a) for a in path.atoms] for path in paths) == [
        ["args[0].lo <= 0x2"], ["args[0].lo > 0x2"]]


def test_implied_atoms_are_not_recorded():
    p = asm("ld [16]\n jgt #10, big\n ret #1\n big: jgt #5, bigger\n ret #2\n bigger: ret #3")
    paths = walk(p, {})
    assert sorted(p.verdict for p in paths) == [1, 3]
    assert all(len(p.atoms) == 1 for p in paths)


def test_division_by_a_symbolic_zero_is_a_path():
    p = asm("ld [16]\n tax\n ld #100\n div x\n ret a")
    verdicts = {str(p.verdict) if not isinstance(p.verdict, int) else p.verdict for p in walk(p, {})}
    assert 0 in verdicts and len(verdicts) == 2


def test_describe_ranges():
    assert describe_ranges("x", ((5, 5),), U64) == "x == 0x5"
    assert describe_ranges("x", ((0, 4), (6, U64)), U64) == "x != 0x5"
    assert describe_ranges("x", ((0, 0x10),), U64) == "x <= 0x10"
    assert describe_ranges("x", ((0x10, U64),), U64) == "x >= 0x10"
    assert describe_ranges("x", ((1, 2), (10, 10)), U64) == "x in {0x1, 0x2, 0xa}"
    assert describe_ranges("x", ((0x10, 0x100), (0x200, 0x300)), U64) == "x in {0x10..0x100, 0x200..0x300}"


def test_halves_of_a_64_bit_compare_are_put_back_together():
    # libseccomp's 64-bit GT: hi > H, or hi == H and lo > L
    p = asm("ld [20]\n jgt #1, yes\n jne #1, no\n ld [16]\n jgt #5, yes\n no: ret #0\n yes: ret #1")
    by = {}
    for path in walk(p, {}):
        by.setdefault(path.verdict, []).append(path.atoms)
    assert summarise(by[1]).text() == "args[0] >= 0x100000006"
    assert summarise(by[0]).text() == "args[0] <= 0x100000005"


def test_ret_a_falls_back_to_enumerated_verdicts():
    p = asm("ld [4]\n jne #X86_64, kill\n ld [0]\n jeq #1, computed\n ret #ALLOW\n"
            "computed: ld [16]\n and #3\n or #0x50000\n ret a\n kill: ret #KILL_PROCESS")
    e = explain(Policy([p]))
    row = next(r for r in e.conditional if r.name == "write")
    assert sorted(c.verdict for c in row.cases) == [0x50000, 0x50001, 0x50002, 0x50003]
    assert row.note and "computed" in row.note and e.proved
