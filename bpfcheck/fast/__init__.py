"""Fast paths over the same semantics table as the reference VM.

* :mod:`.compiled` — each program compiled once to straight-line Python
  (:mod:`.codegen` writes it through the source domain), cached by bytes;
* :mod:`bpfcheck.batch` — many packets at once with numpy (optional extra
  ``fast``), built from :mod:`.numpy_domain`, :mod:`.packed`,
  :mod:`.batch_env` and :mod:`.batch_executor`.

Both must return the reference VM's verdict on every input; the tests in
``tests/fast`` hold them to it.
"""

from .compiled import CompiledProgram, compile_program, run_compiled

__all__ = ["CompiledProgram", "compile_program", "run_compiled"]
