"""``bench/run.py --quick`` runs end to end (numbers are not checked: no
timed tests; the bench itself reports them)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_quick_bench_runs_end_to_end():
    pytest.importorskip("numpy")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "batch path (numpy)" in proc.stdout and "compiled path" in proc.stdout
    assert ": NO" not in proc.stdout          # verdicts identical to libpcap's
    with open(os.path.join(ROOT, "bench", "out", "results.json")) as f:
        results = json.load(f)
    assert results["packets"] == 20_000
