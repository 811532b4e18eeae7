"""Public Hypothesis strategies for classic BPF (see INTERFACE.md).

Only re-exports live here; every strategy checks its arguments at once.
"""

from .inputs import contexts, packets, seccomp_data
from .programs import NASTY_U32, instructions, programs, u32s

__all__ = ["NASTY_U32", "contexts", "instructions", "packets", "programs", "seccomp_data", "u32s"]
