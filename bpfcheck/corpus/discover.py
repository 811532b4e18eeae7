"""Which files are cases.

A ``.toml`` file is a bpfcheck case when it says so — a line
``format = "bpfcheck-case/..."`` near its top — or when it lives under a
directory named ``corpora`` (there a broken case must fail loudly, not
vanish).  Any other TOML file (``pyproject.toml``, tool settings) is left
alone, by ``bpfcheck corpus run`` and by the pytest plugin alike.
"""

from __future__ import annotations

import os
import re
from typing import List

CORPUS_DIR_NAME = "corpora"
_MARKER = re.compile(rb"""^[ \t]*format[ \t]*=[ \t]*["']bpfcheck-case/""", re.MULTILINE)
#: how much of a file the marker may be preceded by (comments, a header)
SNIFF_BYTES = 4096


def has_case_marker(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return False
    return bool(_MARKER.search(head))


def under_corpora(path: str) -> bool:
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    return CORPUS_DIR_NAME in parts[:-1]


def is_case_file(path: str) -> bool:
    return path.endswith(".toml") and (under_corpora(path) or has_case_marker(path))


def find_cases(root: str) -> List[str]:
    """Every case file under ``root`` (or ``root`` itself), sorted; hidden
    directories are skipped."""
    if os.path.isfile(root):
        return [root]
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(directory, name)
            if not name.startswith(".") and is_case_file(path):
                found.append(path)
    return found
