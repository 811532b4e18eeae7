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

from .kernel import (KernelRejected, KernelSocket, kernel_accepts, kernel_run,
                     kernel_verdicts, probe_extensions)
from .packet import Metadata, Observation, PacketNamespace
from .seccomp import kernel_seccomp_accepts, seccomp_run_via_socket

__all__ = [
    "KernelRejected", "KernelSocket", "Metadata", "Observation", "PacketNamespace",
    "kernel_accepts", "kernel_run", "kernel_seccomp_accepts", "kernel_verdicts",
    "probe_extensions", "seccomp_run_via_socket",
]
