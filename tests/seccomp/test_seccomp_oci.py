"""OCI/Docker profiles compiled through libseccomp (ctypes), as runc would."""

import errno

import pytest

from bpfcheck import isa, run
from bpfcheck.context import SeccompData
from bpfcheck.seccomp import libseccomp
from bpfcheck.seccomp.oci import ProfileError, compile_profile, rules_of

from seccomp_support import X86_64, needs_kernel, needs_libseccomp

pytestmark = needs_libseccomp
ALLOW, EPERM = isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_ERRNO | errno.EPERM


def profile(*syscalls, default="SCMP_ACT_ERRNO", **extra):
    return {"defaultAction": default, "syscalls": list(syscalls), **extra}


def test_the_container_profile_compiles(container):
    assert 500 < len(container) < 2000
    assert run(container, SeccompData(0, X86_64), target="seccomp") == ALLOW          # read
    assert run(container, SeccompData(165, X86_64), target="seccomp") == EPERM        # mount
    assert run(container, SeccompData(246, X86_64), target="seccomp") == isa.SECCOMP_RET_KILL_PROCESS


@needs_kernel
def test_the_kernel_accepts_the_compiled_profile(container):
    from bpfcheck.oracles.seccomp import kernel_seccomp_accepts
    assert kernel_seccomp_accepts(container) == (True, 0)


def test_args_of_one_entry_are_anded():
    p = compile_profile(profile({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
        {"index": 1, "value": 3, "op": "SCMP_CMP_GE"}]})).program
    ok = SeccompData(135, X86_64, args=(8, 3))
    assert run(p, ok, target="seccomp") == ALLOW
    assert run(p, SeccompData(135, X86_64, args=(8, 2)), target="seccomp") == EPERM


def test_args_on_the_same_index_become_separate_rules_as_runc_does():
    p = compile_profile(profile({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]})).program
    verdicts = [run(p, SeccompData(41, X86_64, args=(d,)), target="seccomp") for d in (1, 2, 3)]
    assert verdicts == [ALLOW, ALLOW, EPERM]


def test_masked_eq_takes_the_mask_from_value_and_the_value_from_value_two():
    p = compile_profile(profile({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]})).program
    assert run(p, SeccompData(56, X86_64, args=(0x11,)), target="seccomp") == ALLOW
    assert run(p, SeccompData(56, X86_64, args=(0x10000000,)), target="seccomp") == EPERM


def test_errno_ret_trace_and_default_errno():
    spec = rules_of(profile({"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                            {"names": ["ptrace"], "action": "SCMP_ACT_TRACE"},
                            default="SCMP_ACT_ERRNO", defaultErrnoRet=13))
    assert spec.default_action == isa.SECCOMP_RET_ERRNO | 13
    assert [(r.syscall, r.action) for r in spec.rules] == [
        ("uname", isa.SECCOMP_RET_ERRNO | 38), ("ptrace", isa.SECCOMP_RET_TRACE | errno.EPERM)]


def test_rules_like_the_default_and_unknown_names_are_skipped():
    spec = rules_of(profile({"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
                            {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}))
    assert [r.syscall for r in spec.rules] == ["read"]
    assert any("no_such_call" in s for s in spec.skipped)
    assert any("equals the default" in s for s in spec.skipped)


def test_docker_includes_and_arch_map():
    spec = rules_of({"defaultAction": "SCMP_ACT_ERRNO",
                     "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                                  "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
                     "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                                  {"names": ["bpf"], "action": "SCMP_ACT_ALLOW",
                                   "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                                  {"names": ["arm_fadvise64_64"], "action": "SCMP_ACT_ALLOW",
                                   "includes": {"arches": ["arm"]}}]})
    assert spec.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert [r.syscall for r in spec.rules] == ["read"]


@pytest.mark.parametrize("bad,why", [
    (profile(default="SCMP_ACT_MAYBE"), "unknown action"),
    (profile({"names": ["read"], "action": "SCMP_ACT_ALLOW",
              "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}), "index"),
    (profile({"names": ["read"], "action": "SCMP_ACT_ALLOW",
              "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_LIKE"}]}), "unknown op"),
    (profile({"names": ["read"], "action": "SCMP_ACT_ALLOW",
              "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}), "unsigned 64-bit"),
    ([], "JSON object"),
])
def test_bad_profiles_are_one_line_errors(bad, why):
    with pytest.raises(ProfileError, match=why):
        compile_profile(bad)


def test_not_json():
    from bpfcheck.seccomp.oci import load_profile
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile(b"{nope", "p.json")


def test_direct_rules_and_arches():
    from bpfcheck.seccomp.libseccomp import ArgCmp, Rule, build
    p = build(EPERM, [Rule(ALLOW, "write", (ArgCmp(0, "LE", 2),))], arches=["x86"])
    i386 = 0x40000003
    assert run(p, SeccompData(4, i386, args=(2,)), target="seccomp") == ALLOW    # i386 write
    assert run(p, SeccompData(4, i386, args=(3,)), target="seccomp") == EPERM
    assert run(p, SeccompData(1, X86_64, args=(1,)), target="seccomp") == ALLOW
    assert libseccomp.syscall_number("execve", "x86") == 11
    assert libseccomp.version().startswith("2.")
    with pytest.raises(libseccomp.LibseccompError):
        libseccomp.arch_token("vax")
