"""``diff``: every change between two policies, each with a witness that
both the reference VM and the kernel confirm."""

import pytest

from bpfcheck import isa
from bpfcheck.seccomp.diff import diff, diff_text
from bpfcheck.seccomp.policy import Policy

from seccomp_support import asm, needs_kernel

ALLOW, EPERM, ENOSYS = isa.SECCOMP_RET_ALLOW, 0x50001, 0x50026


@pytest.fixture(scope="module")
def changes(container, variant):
    return diff(Policy([container]), Policy([variant]), "x86_64")


def test_the_variant_changes_exactly_these(changes):
    got = {(c.label, c.old, c.new, c.condition) for c in changes.changes if c.nr is not None}
    assert got == {
        ("socket", EPERM, ALLOW, "args[0] == 0x11"),
        ("clone", EPERM, ALLOW, "args[0] & 0x6e020000 == 0x0 and args[0] & 0x7e020000 != 0x0"),
        ("ptrace", EPERM, ALLOW, "always"),
        ("personality", ALLOW, EPERM, "args[0] == 0x20008"),
        ("add_key", ENOSYS, EPERM, "always"),
        ("request_key", ENOSYS, EPERM, "always"),
        ("keyctl", ENOSYS, EPERM, "always"),
        ("io_uring_setup", EPERM, ALLOW, "always"),
    }
    assert not changes.unproved
    # Each class of inputs outside the table: every pair that changes, the
    # strongest first, each shown by the lowest number that shows it with
    # arguments 0 (io_uring_setup, as socket needs one), else with the
    # arguments the change needs (personality).
    classes = [(c.label, c.old, c.new, c.witness.seccomp.nr) for c in changes.changes if c.nr is None]
    assert classes == [("x32 numbers (nr | 0x40000000)", EPERM, ALLOW, 425 | 0x40000000),
                       ("x32 numbers (nr | 0x40000000)", ENOSYS, EPERM, 248 | 0x40000000),
                       ("x32 numbers (nr | 0x40000000)", ALLOW, EPERM, 135 | 0x40000000),
                       ("architecture i386 (0x40000003)", EPERM, ALLOW, 26),
                       ("architecture i386 (0x40000003)", ENOSYS, EPERM, 286),
                       ("architecture i386 (0x40000003)", ALLOW, EPERM, 136)]


def test_every_witness_replays_on_both(changes, container, variant):
    for c in changes.changes:
        w = c.witness.seccomp
        assert (Policy([container]).run(w), Policy([variant]).run(w)) == (c.old, c.new), c.label


@needs_kernel
def test_every_witness_replays_on_the_kernel(changes, container, variant):
    from bpfcheck.oracles.seccomp import seccomp_run_via_socket
    inputs = [c.witness.seccomp for c in changes.changes]
    assert seccomp_run_via_socket(container, inputs) == [c.old for c in changes.changes]
    assert seccomp_run_via_socket(variant, inputs) == [c.new for c in changes.changes]


def test_a_policy_has_no_changes_against_itself(container):
    result = diff(Policy([container]), Policy([container]))
    assert result.same and result.to_json()["status"] == "same"


def test_equivalent_but_differently_written_filters_are_the_same():
    a = asm("ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #EPERM")
    b = asm("ld [0]\n jgt #59, ok\n jge #59, deny\n ok: ret #ALLOW\n deny: ret #EPERM")
    assert diff(Policy([a]), Policy([b])).same


def test_a_change_outside_the_table_is_found():
    a = asm("ld [0]\n jgt #1000, deny\n ret #ALLOW\n deny: ret #EPERM")
    b = asm("ld [0]\n jgt #2000, deny\n ret #ALLOW\n deny: ret #EPERM")
    result = diff(Policy([a]), Policy([b]))
    labels = [c.label for c in result.changes]
    assert "other numbers not in the table" in labels
    text = diff_text(result)
    assert "ERRNO(EPERM) -> ALLOW" in text
