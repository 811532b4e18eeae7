"""Value domains the semantics table runs over.

A domain supplies u32 arithmetic and comparisons (``const``, ``add`` …
``lshr``, ``eq``/``ugt``/``uge``/``test``, boolean ``not_``/``and_c``/``or_c``,
``ite``); an environment supplies the program's inputs (packet loads,
length, metadata).  :mod:`.concrete` computes with Python ints;
:mod:`.z3dom` builds bit-vector terms; :mod:`.pysource` writes Python
source for the compiled fast path.
"""
