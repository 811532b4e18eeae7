"""Symbolic execution: the semantics table over z3 bit-vectors."""

from .executor import Encoding, Exit, encode
from .inputs import SymbolicInputs, context_from_model

__all__ = ["Encoding", "Exit", "SymbolicInputs", "context_from_model", "encode"]
