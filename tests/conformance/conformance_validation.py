"""One program's validation, judged three ways: bpfcheck's ``validate``
against the kernel's socket checker (``SO_ATTACH_FILTER``), libpcap's
``bpf_validate`` and the kernel's seccomp checker.

Kernel answers: attached = valid; EINVAL = rejected; ENOMEM = *passed the
checker* (the converted filter is larger than ``net.core.optmem_max``
allows on one socket — a resource limit of the socket, not a validation
rule; bpfcheck's ``validate`` must accept such programs).  Any other errno
is a failure of its own.
"""

from __future__ import annotations

import errno
from typing import Optional

from conformance_support import (Mutant, bpfcheck_verdict, describe_errno, describe_validation,
                                 show_program)

SOCKET_CLASSES = ("BadLength", "UnknownOpcode", "DivisionByZero", "ShiftTooLarge", "BadScratchIndex",
                  "JumpOutOfRange", "UnknownExtension", "MissingReturn", "ScratchReadBeforeWrite")
PCAP_CLASSES = ("BadLength", "UnknownOpcode", "DivisionByZero", "BadScratchIndex", "JumpOutOfRange",
                "MissingReturn")


def _kernel_passed(ok: bool, err: int, what: str, program) -> bool:
    if ok:
        return True
    if err == errno.ENOMEM:
        return True
    assert err == errno.EINVAL, f"{what} failed with {describe_errno(ok, err)}\n" + show_program(program)
    return False


def check_socket_validation(program, stats, mutant: Optional[Mutant] = None) -> None:
    from bpfcheck.oracles.kernel import kernel_accepts
    ok, err = kernel_accepts(program)
    passed = _kernel_passed(ok, err, "SO_ATTACH_FILTER", program)
    ours = bpfcheck_verdict(program, "socket")
    kind = f" ({mutant.kind} mutant)" if mutant is not None else ""
    stats["socket: " + (type(ours).__name__ if ours is not None else "accepted")] += 1
    if err == errno.ENOMEM:
        stats["socket: ENOMEM (counted as accepted)"] += 1
    assert passed == (ours is None), (
        f"validate(target='socket') disagrees with the kernel{kind}\n"
        f"kernel: {describe_errno(ok, err)}\nbpfcheck: {describe_validation(ours)}\n"
        + show_program(program))
    if mutant is not None and mutant.expect is not None:
        cls, pc = mutant.expect
        stats["socket: single-fault pc checked"] += 1
        assert ours is not None and (type(ours).__name__, ours.pc) == (cls, pc), (
            f"a program with one fault ({mutant.kind}): expected {cls} at pc {pc}, bpfcheck says "
            f"{describe_validation(ours)}\n" + show_program(program))


def check_pcap_validation(pcap, program, stats) -> None:
    theirs = pcap.bpf_validate(program)
    ours = bpfcheck_verdict(program, "pcap")
    stats["pcap: " + (type(ours).__name__ if ours is not None else "accepted")] += 1
    assert theirs == (ours is None), (
        f"validate(target='pcap') disagrees with libpcap's bpf_validate\n"
        f"bpf_validate: {'accepts' if theirs else 'rejects'}\nbpfcheck: {describe_validation(ours)}\n"
        + show_program(program))


def check_seccomp_validation(seccomp, program, stats, label: str = "") -> bool:
    """Returns whether the kernel installs the program."""
    ok, err = seccomp.kernel_seccomp_accepts(program)
    assert ok or err == errno.EINVAL, (f"seccomp() failed with {describe_errno(ok, err)}\n"
                                       + show_program(program))
    ours = bpfcheck_verdict(program, "seccomp")
    stats["seccomp: " + (type(ours).__name__ if ours is not None else "accepted")] += 1
    assert ok == (ours is None), (
        f"validate(target='seccomp') disagrees with the kernel{label}\n"
        f"kernel: {describe_errno(ok, err)}\nbpfcheck: {describe_validation(ours)}\n"
        + show_program(program))
    return ok
