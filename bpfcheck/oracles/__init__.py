"""The real implementations bpfcheck checks itself against, usable directly.

=====================  ==============================================================
module                 oracle
=====================  ==============================================================
:mod:`.kernel`         socket filters on an ``AF_UNIX`` datagram pair (no privileges)
:mod:`.packet`         ``AF_PACKET`` taps on ``lo`` in a private network namespace (root)
:mod:`.seccomp`        seccomp acceptance in a forked child; seccomp verdicts via sockets
:mod:`.libpcap`        libpcap 1.10's compiler, validator, printer and guarded interpreter
=====================  ==============================================================

Nothing here is loaded or started at import: a missing facility raises
:class:`~bpfcheck.errors.OracleUnavailable` when first used.
"""

from .._lazy import lazy_getattr

# The names below load their module on first use (PEP 562): compiling an
# expression with libpcap (.libpcap) need not import sockets and netlink.
_LAZY = {name: (module, name) for name, module in {
    "KernelRejected": "kernel", "KernelSocket": "kernel", "kernel_accepts": "kernel",
    "kernel_run": "kernel", "kernel_verdicts": "kernel", "probe_extensions": "kernel",
    "Metadata": "packet", "Observation": "packet", "PacketNamespace": "packet",
    "kernel_seccomp_accepts": "seccomp", "seccomp_run_via_socket": "seccomp",
}.items()}
__getattr__ = lazy_getattr(__name__, globals(), _LAZY)

__all__ = [
    "KernelRejected", "KernelSocket", "Metadata", "Observation", "PacketNamespace",
    "kernel_accepts", "kernel_run", "kernel_seccomp_accepts", "kernel_verdicts",
    "probe_extensions", "seccomp_run_via_socket",
]
