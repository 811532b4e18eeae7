"""pytest plugin: every bpfcheck corpus case is a test item.

``pytest corpora/`` collects each case file (see
:mod:`bpfcheck.corpus.discover` for which ``.toml`` files are cases: those
saying ``format = "bpfcheck-case/..."``, and every ``.toml`` under a
``corpora/`` directory) as one item named after the case, replays it with
the same runner as ``bpfcheck corpus run``, and on failure prints the same
explanation: where in the case, expected vs got, the witness.  Other TOML
files, and the project's own tests, are left alone.

Collection reads only the file given to it (no global state), so
pytest-xdist workers each collect the same items from the files.  This
module is imported by every pytest run in an environment where bpfcheck
is installed, so it imports nothing heavy until a case runs.

Option: ``--bpfcheck-timeout S`` (seconds per solver question, default 30).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("bpfcheck", "bpfcheck corpus cases")
    group.addoption("--bpfcheck-timeout", type=float, default=None, metavar="S",
                    help="seconds per solver question when replaying bpfcheck cases (default 30)")


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".toml":
        return None
    from .corpus.discover import is_case_file
    if not is_case_file(str(file_path)):
        return None
    return CaseFile.from_parent(parent, path=file_path)


class CaseFile(pytest.File):
    def collect(self):
        from .corpus.case import load_case
        from .errors import BpfcheckError
        from .corpus.results import printable
        try:
            name = load_case(str(self.path)).name
        except BpfcheckError:
            name = self.path.stem          # the item fails when run, with the reason
        # "::" separates parts of a node id; control characters garble terminals
        name = printable(name).replace("::", ": :") or self.path.stem
        yield CaseItem.from_parent(self, name=name)


class CaseFailed(Exception):
    """Raised by a failing case; carries the runner's explanation."""


class CaseItem(pytest.Item):
    def runtest(self):
        from .corpus.results import PASSED
        from .corpus.runner import DEFAULT_TIMEOUT, run_case
        timeout = self.config.getoption("bpfcheck_timeout", None) or DEFAULT_TIMEOUT
        root = str(self.config.rootpath)
        result = run_case(str(self.path), root, timeout)
        for note in result.notes:
            self.add_report_section("call", "bpfcheck", note)
        if result.status != PASSED:
            raise CaseFailed(result.explain())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"bpfcheck case {self.name}"
