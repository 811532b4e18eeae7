"""The hostile-input suite (issue 8): every row of :mod:`robust_hostile`
through the real command line, as a subprocess.

Each must end with exit code 2 (bad input) or 1 (a well-formed program the
target rejects, a corpus case that cannot run), print exactly one line (an
error on standard error, or the finding / JSON object on standard output),
never a traceback or an "internal error", and finish within 5 seconds.
"""

from __future__ import annotations

import collections
import json
import os
import re

import pytest

from bpfcheck.program import Program
from conftest import CASE_SECONDS, assert_one_clean_line, run_cli
from robust_hostile import CASES


def _materialise(directory, files) -> None:
    for name, data in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if callable(data):
            data(path)
            continue
        if isinstance(data, tuple):                     # ("fmt", FORMAT, N): N instructions in FORMAT
            _, fmt, n = data
            data = Program([(0x06, 0, 0, 1)] * n).format(fmt)
        with open(path, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)


def test_the_suite_is_large_and_varied():
    assert len(CASES) >= 100, len(CASES)
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
    per_category = collections.Counter(c.category for c in CASES)
    assert set(per_category) >= {"raw", "constants", "encoding", "structure", "size", "property", "corpus",
                                 "oci", "capture", "arguments"}, per_category


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}: {c.name}" for c in CASES])
def test_hostile_input(case, tmp_path):
    _materialise(str(tmp_path), case.files)
    ran = run_cli(case.args, stdin=case.stdin, cwd=str(tmp_path), timeout=60)
    line = assert_one_clean_line(ran, codes=(case.exit,), want_json=case.json)
    if case.match:
        assert re.search(case.match, line), ran.describe()
    assert ran.seconds < CASE_SECONDS, ran.describe()


JSON_SAMPLE = [c for c in CASES if c.exit == 2 and not c.json and c.stdin is None
               and c.category in ("raw", "constants", "property", "oci", "capture")][::6]


@pytest.mark.parametrize("case", JSON_SAMPLE, ids=[c.name for c in JSON_SAMPLE])
def test_hostile_input_with_json(case, tmp_path):
    """With --json the same error is one JSON object on standard output
    (status "error", the message) and still one line on standard error."""
    _materialise(str(tmp_path), case.files)
    ran = run_cli(list(case.args) + ["--json"], stdin=case.stdin, cwd=str(tmp_path), timeout=60)
    line = assert_one_clean_line(ran, codes=(2,), want_json=True)
    assert len(ran.stderr.splitlines()) == 1 and ran.stderr.startswith("bpfcheck: error: "), ran.describe()
    assert json.loads(line)["message"] == ran.stderr.split("bpfcheck: error: ", 1)[1].strip()
