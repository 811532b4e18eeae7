"""Differential testing: bpfcheck against the real implementations.

The core that ``bpfcheck diff`` and ``bpfcheck fuzz`` share:

* :mod:`.values` — :class:`Input` and the outcomes (a verdict,
  :class:`NoVerdict`, :class:`Delivered`), :class:`Acceptance`;
* :mod:`.oracles` — one :class:`Oracle` protocol, implemented by the
  reference VM, the compiled fast path, the kernel and libpcap;
* :mod:`.compare` — :func:`compare` one program on two oracles and
  classify each difference as ``"dialect"`` or ``"disagreement"``;
* :mod:`.explain` — which documented dialect rule made a difference;
* :mod:`.inputs` — inputs for a program: generated, or from a capture.
"""

from .compare import DIALECT, DISAGREEMENT, Comparison, Difference, compare
from .oracles import (CompiledOracle, KernelOracle, LibpcapOracle, Oracle, ReferenceOracle,
                      oracle_named, reads_random)
from .values import Acceptance, Delivered, Input, NoVerdict, Outcome, same, show

__all__ = ["Acceptance", "Comparison", "CompiledOracle", "DIALECT", "DISAGREEMENT", "Delivered",
           "Difference", "Input", "KernelOracle", "LibpcapOracle", "NoVerdict", "Oracle", "Outcome",
           "ReferenceOracle", "compare", "oracle_named", "reads_random", "same", "show"]
