"""``audit``: each finding shown by a filter with the flaw and one without;
every witness replays on the reference VM and through the kernel."""

import pytest

from bpfcheck import Program, isa
from bpfcheck.seccomp import actions
from bpfcheck.seccomp.audit import audit, audit_text
from bpfcheck.seccomp.policy import Policy

from seccomp_support import asm, needs_kernel, on_x86_64_linux

ARCH_OK = "ld [4]\n jne #X86_64, kill\n"
KILL = "kill: ret #KILL_PROCESS\n"

CASES = {
    "arch-not-checked": (
        "ld [0]\n jeq #59, kill\n ret #ALLOW\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #59, kill\n ret #ALLOW\n" + KILL),
    "x32-bypass": (
        ARCH_OK + "ld [0]\n jeq #59, kill\n ret #ALLOW\n" + KILL,
        ARCH_OK + "ld [0]\n jge #0x40000000, kill\n jeq #59, kill\n ret #ALLOW\n" + KILL),
    "half-compared": (    # mmap only with PROT_READ: prot checked on its low half
        ARCH_OK + "ld [0]\n jne #9, allow\n ld [32]\n jeq #1, allow\n ret #EPERM\n"
        "allow: ret #ALLOW\n" + KILL,
        ARCH_OK + "ld [0]\n jne #9, allow\n ld [36]\n jne #0, deny\n ld [32]\n jeq #1, allow\n"
        "deny: ret #EPERM\n allow: ret #ALLOW\n" + KILL),
    "sign-extension": (   # no TIOCSTI, libseccomp style: the high half of an unsigned int compared
        ARCH_OK + "ld [0]\n jne #16, allow\n ld [28]\n jne #0, allow\n ld [24]\n jeq #0x5412, deny\n"
        "allow: ret #ALLOW\n deny: ret #EPERM\n" + KILL,
        ARCH_OK + "ld [0]\n jne #16, allow\n ld [24]\n jeq #0x5412, deny\n"
        "allow: ret #ALLOW\n deny: ret #EPERM\n" + KILL),
    "default-allow": (
        ARCH_OK + "ld [0]\n jge #0x40000000, kill\n jeq #59, kill\n ret #ALLOW\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #0, allow\n jeq #1, allow\n ret #EPERM\n allow: ret #ALLOW\n" + KILL),
    "dead-rule": (        # execve allowed, then a rule for execve that can never fire
        ARCH_OK + "ld [0]\n jeq #59, allow\n jeq #59, deny\n ret #EPERM\n deny: ret #0x50026\n"
        "allow: ret #ALLOW\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #59, allow\n jeq #60, deny\n ret #EPERM\n deny: ret #0x50026\n"
        "allow: ret #ALLOW\n" + KILL),
    "errno-data": (
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x51388\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x50001\n" + KILL),
    "errno-zero": (
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x50000\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x50001\n" + KILL),
    "unknown-action": (
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x10000\n" + KILL,
        ARCH_OK + "ld [0]\n jeq #59, deny\n ret #ALLOW\n deny: ret #0x30000\n" + KILL),
}


def findings(program, check, **kw):
    result = audit([program], checks=[check], kernel=on_x86_64_linux, **kw)
    assert not result.unknown, result.unknown
    return [f for f in result.findings if f.check == check]


@pytest.mark.parametrize("check", sorted(CASES))
def test_the_flaw_is_found_and_the_clean_filter_passes(check):
    flawed, clean = (asm(text) for text in CASES[check])
    found = findings(flawed, check)
    assert found, f"{check}: no finding on the flawed filter"
    assert findings(clean, check) == [], f"{check}: a finding on the clean filter"
    for f in found:
        if f.witness is None:
            continue
        assert Policy([flawed]).run(f.witness.seccomp) == f.witness.verdicts["policy"]
        if on_x86_64_linux:
            assert f.witness.kernel is True, f"{check}: the kernel disagrees with {f.witness.to_json()}"


def test_x32_bypass_names_both_calls():
    flawed = asm(CASES["x32-bypass"][0])
    f = findings(flawed, "x32-bypass")[0]
    assert f.witness.seccomp.nr & 0x40000000 and f.related.nr == 59
    assert actions.weaker(f.witness.verdicts["policy"], Policy([flawed]).run(f.related))
    assert "execve" in f.message


def test_sign_extension_of_a_negative_int_compared_zero_extended():
    # kill(pid == -1) denied, but -1 written as the 64-bit 0x00000000ffffffff:
    # callers sign-extend, so the rule never fires for them.
    flawed = asm(ARCH_OK + "ld [0]\n jne #62, allow\n ld [20]\n jne #0, allow\n ld [16]\n"
                 "jeq #0xffffffff, deny\n allow: ret #ALLOW\n deny: ret #EPERM\n" + KILL)
    clean = asm(ARCH_OK + "ld [0]\n jne #62, allow\n ld [16]\n jeq #0xffffffff, deny\n"
                "allow: ret #ALLOW\n deny: ret #EPERM\n" + KILL)
    f = findings(flawed, "sign-extension")[0]
    assert f.witness.seccomp.args[0] == 0xFFFFFFFFFFFFFFFF and f.witness.verdicts["policy"] == 0x7FFF0000
    assert "sign-extended" in f.message
    assert findings(clean, "sign-extension") == []


def test_default_allow_for_an_unknown_architecture():
    flawed = asm("ld [4]\n jeq #I386, kill\n ret #ALLOW\n" + KILL)
    messages = [f.message for f in findings(flawed, "default-allow")]
    assert any("architecture the table does not know" in m for m in messages)


def test_a_partial_arch_check_is_not_enough():
    flawed = asm("ld [4]\n jeq #I386, kill\n ld [0]\n jeq #59, kill\n ret #ALLOW\n" + KILL)
    f = findings(flawed, "arch-not-checked")[0]
    assert f.pc == 3 and f.witness.seccomp.arch != 0x40000003


def test_dead_rule_points_at_the_shadowing_comparison():
    f = findings(asm(CASES["dead-rule"][0]), "dead-rule")[0]
    assert "instruction 6 can never run" in f.message and "instruction 4" in f.message
    assert "execve" in f.message and f.witness.seccomp.nr == 59
    assert f.witness.verdicts["policy"] == isa.SECCOMP_RET_ALLOW


def test_kernel_rejects():
    bad = Program([(0x28, 0, 0, 0), (0x06, 0, 0, 0x7FFF0000)])       # ldh [0]
    result = audit([bad], kernel=on_x86_64_linux)
    assert [f.check for f in result.findings] == ["kernel-rejects"]
    assert result.findings[0].pc == 0
    if on_x86_64_linux:
        assert "EINVAL" in result.findings[0].message
    assert audit([asm("ret #ALLOW")], checks=["errno-data"]).findings == []


def test_user_properties():
    p = asm(CASES["errno-data"][1])
    result = audit([p], checks=[], properties=["nr == execve -> action == KILL_PROCESS",
                                               "arch == AUDIT_ARCH_X86_64 and nr == read -> action == ALLOW"])
    assert [f.check for f in result.findings] == ["property"]
    assert result.findings[0].witness.seccomp.nr == 59


@needs_kernel
def test_the_container_profile_audit(container):
    result = audit([container])
    checks = [f.check for f in result.findings]
    assert checks == ["sign-extension"], audit_text(result)
    f = result.findings[0]
    assert "ioctl args[1]" in f.message and f.witness.seccomp.args[1] == 0x100005412
    assert f.witness.verdicts["policy"] == isa.SECCOMP_RET_ALLOW and f.witness.kernel is True
    assert result.to_json()["status"] == "findings"
