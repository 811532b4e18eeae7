"""Public Hypothesis strategies for classic BPF (see INTERFACE.md).

Only re-exports live here.  Every strategy checks its arguments when it is
called (not when the first example is drawn) and quotes the bad value;
its repr is the call that made it.

=========================================  ===============================================
``programs(target, max_len, min_len)``     programs the target accepts, by construction
``invalid_programs(target, kind)``         programs it refuses, one fault of a known kind
``instructions()``                         any ``struct sock_filter``
``packets(..., for_program=p)``            raw bytes, scapy frames, lengths around p's loads
``frames(truncate)``                       Ethernet/VLAN/IPv4/IPv6/ARP/TCP/UDP/ICMP via scapy
``contexts(device)``                       socket metadata (``Context``)
``seccomp_data(arch)``                     ``struct seccomp_data`` (``SeccompData``)
``u32s()``                                 u32 values, :data:`NASTY_U32` mixed in
=========================================  ===============================================
"""

from .frames import frames
from .inputs import contexts, seccomp_data
from .invalid import KINDS as INVALID_KINDS
from .invalid import InvalidProgram, invalid_programs
from .packets import load_boundaries, packets
from .programs import NASTY_U32, instructions, programs, u32s

__all__ = ["INVALID_KINDS", "NASTY_U32", "InvalidProgram", "contexts", "frames", "instructions",
           "invalid_programs", "load_boundaries", "packets", "programs", "seccomp_data", "u32s"]
