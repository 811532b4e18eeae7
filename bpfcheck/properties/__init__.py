"""The property language (INTERFACE.md): parse, type-check, evaluate."""

from .parser import PropertyError, parse_property

__all__ = ["PropertyError", "parse_property"]
