"""``bpfcheck fuzz`` on the command line: usage, JSON, workers, interrupts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from bpfcheck.cli import main
from bpfcheck.fuzz.state import STATE_DIR

from oracle_marks import needs_kernel, needs_libpcap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bpfcheck(*argv, **kw):
    return subprocess.Popen([sys.executable, "-m", "bpfcheck", *argv], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("argv, words", [
    (["fuzz"], "stopping rule"),
    (["fuzz", "--cases", "3", "--against", "kernal"], "--against 'kernal'"),
    (["fuzz", "--cases", "0"], "--cases 0"),
    (["fuzz", "--time", "5", "--cases", "3"], "not allowed with"),
    (["fuzz", "--cases", "3", "--against", "pcap", "--targets", "seccomp"], "seccomp filters need --against kernel"),
])
def test_usage_errors(capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


@needs_libpcap
def test_json_summary(capsys, tmp_path):
    code = main(["fuzz", "--against", "pcap", "--cases", "8", "--inputs", "32", "--seed", "1", "--quiet",
                 "--corpus", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["status"] == "ok"
    assert doc["cases"] == 8 and doc["disagreements"] == 0 and doc["findings"] == []
    assert doc["seconds"] > 0 and doc["comparisons"] > 8 * 32 and doc["by_side"]["libpcap"] > 0
    assert doc["seed"] == 1 and doc["against"] == ["pcap"]


@needs_kernel
@needs_libpcap
def test_two_workers_share_the_work():
    proc = bpfcheck("fuzz", "--cases", "40", "-j", "2", "--inputs", "64", "--seed", "3", "--json")
    out, err = proc.communicate(timeout=120)
    doc = json.loads(out)
    assert proc.returncode == 0, err
    assert doc["cases"] == 40 and doc["jobs"] == 2 and doc["by_side"]["kernel"] > 0
    assert "fuzz " in err                          # progress on standard error


def _wait_for_progress(proc, timeout: float = 60.0) -> list:
    """Read standard error until a progress line shows cases done."""
    lines = []

    def read():
        for line in proc.stderr:
            lines.append(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(re.search(r"cases [1-9]", line) for line in lines):
            return lines
        time.sleep(0.1)
    raise AssertionError("no progress within a minute:\n" + "".join(lines))


@needs_kernel
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_cleanly_and_the_next_run_resumes(tmp_path, sig):
    corpus = str(tmp_path / "corpus")
    proc = bpfcheck("fuzz", "--corpus", corpus, "-j", "2", "--seed", "4", "--inputs", "64")
    _wait_for_progress(proc)
    proc.send_signal(sig)
    out = proc.stdout.read()
    proc.wait(timeout=90)
    assert proc.returncode in (0, 1)
    assert "(interrupted)" in out and "cases" in out
    state = os.path.join(corpus, STATE_DIR, "state.json")
    doc = json.loads(open(state).read())
    assert doc["totals"]["cases"] > 0
    assert all(entry["pid"] == 0 for entry in doc["partial"].values())   # released for resuming
    again = bpfcheck("fuzz", "--corpus", corpus, "--cases", "5", "--inputs", "16", "--json", "--quiet")
    out, err = again.communicate(timeout=90)
    resumed = json.loads(out)
    assert resumed["resumed"] and resumed["seed"] == 4 and resumed["cases"] == 5
    assert resumed["totals"]["cases"] == doc["totals"]["cases"] + 5
