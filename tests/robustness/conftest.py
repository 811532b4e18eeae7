"""Running the real command line on hostile input, and judging what it did.

Every test here that goes through the CLI runs ``python -m bpfcheck`` as a
subprocess (the same interpreter as the tests), in a scratch directory,
with a deadline: a hang is a failure, not a stuck CI job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import pytest

#: the whole budget of one hostile case (the issue: "under 5 s each")
CASE_SECONDS = 5.0


@dataclass
class Ran:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (f"bpfcheck {' '.join(a[:60] for a in self.args)}\n  exit {self.returncode} after "
                f"{self.seconds:.2f} s\n  stdout: {self.stdout[-600:]!r}\n  stderr: {self.stderr[-600:]!r}")


def bpfcheck_env() -> dict:
    env = dict(os.environ)
    env.pop("BPFCHECK_DEBUG", None)          # the traceback must not be asked for
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["COLUMNS"] = "100"
    return env


def run_cli(args: Sequence[str], stdin: Optional[bytes] = None, cwd: Optional[str] = None,
            timeout: float = 60.0) -> Ran:
    """``bpfcheck ARGS`` in a subprocess; a run past ``timeout`` fails the test."""
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "bpfcheck", *args], input=stdin if stdin is not None else b"",
                              capture_output=True, cwd=cwd, env=bpfcheck_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bpfcheck {' '.join(a[:60] for a in args)} did not end within {timeout:g} s")
    return Ran(list(args), done.returncode, done.stdout.decode("utf-8", "replace"),
               done.stderr.decode("utf-8", "replace"), time.monotonic() - started)


def assert_one_clean_line(ran: Ran, codes=(2,), want_json: bool = False) -> str:
    """The contract for bad input: an expected exit code, no traceback, no
    internal error, and exactly one line of message (on standard error for
    an error, or the one verdict line / JSON object on standard output).
    Returns that line."""
    assert ran.returncode in codes, ran.describe()
    for stream in (ran.stdout, ran.stderr):
        assert "Traceback" not in stream, ran.describe()
        assert "internal error" not in stream, ran.describe()
    if want_json:
        lines = ran.stdout.splitlines()
        assert len(lines) == 1, ran.describe()
        obj = json.loads(lines[0])
        assert obj["status"] in ("error", "invalid", "failed", "findings", "unknown"), ran.describe()
        if ran.returncode == 2:
            assert obj["status"] == "error" and obj["message"], ran.describe()
        return lines[0]
    if ran.returncode == 2:
        assert ran.stdout == "", ran.describe()
        lines = ran.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("bpfcheck: error: "), ran.describe()
        return lines[0]
    # exit 1: the finding is one line, on whichever stream carries it
    out, err = ran.stdout.splitlines(), ran.stderr.splitlines()
    assert len(out) + len(err) == 1, ran.describe()
    return (out or err)[0]
