"""Package attributes that load their module on first use (PEP 562).

z3, sockets and libseccomp take a moment to load; a package lists which of
its names live where, and importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Callable, Dict, Tuple


def lazy_getattr(package: str, namespace: dict, table: Dict[str, Tuple[str, str]]) -> Callable:
    """A module ``__getattr__`` for ``package``: ``table`` maps each public
    name to ``(submodule, attribute)``; the value is cached in ``namespace``
    (the package's globals) so the lookup happens once."""

    def __getattr__(name: str):
        where = table.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = where
        value = getattr(importlib.import_module(f".{module}", package), attr)
        namespace[name] = value
        return value

    return __getattr__
