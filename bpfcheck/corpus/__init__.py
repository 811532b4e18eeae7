"""Regression corpora: case files (format v1), loading, saving."""

from .case import Case, CaseError, dump_case, load_case, parse_case

__all__ = ["Case", "CaseError", "dump_case", "load_case", "parse_case"]
