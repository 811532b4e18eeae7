"""Ctrl-C during a long solver question stops the command at once.

z3's own SIGINT handling cancels only the question running, and Python
raises ``KeyboardInterrupt`` only after the C call returns, so without
:mod:`bpfcheck.cli.interrupt` a Ctrl-C on a hard program went unnoticed
for minutes.  Two random 4,096-instruction programs that differ only in
their last ``ret``, where the one question ``equiv`` asks takes far
longer than a minute, are compared with no time limit, interrupted once
the question has begun, and the process must be gone within seconds with
one line and exit 130.
"""

import os
import signal
import subprocess
import sys
import time

from conftest import bpfcheck_env

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from proofs import live_random_program  # noqa: E402

#: seconds from the interrupt to the process being gone (it waits for no question)
STOP_SECONDS = 5.0


def test_ctrl_c_stops_a_long_solver_question_at_once(tmp_path):
    program = live_random_program(4096, 2)
    a, b = tmp_path / "a.c", tmp_path / "b.c"
    a.write_text(program.format("c"))
    b.write_text(type(program)(list(program[:-1]) + [(0x06, 0, 0, 0x12345)]).format("c"))
    proc = subprocess.Popen([sys.executable, "-m", "bpfcheck", "equiv", str(a), str(b)], env=bpfcheck_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(6.0)                   # encoding and running are over: the question runs
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.decode().strip().splitlines()[-1] == "bpfcheck: interrupted"
    assert waited < STOP_SECONDS, f"took {waited:.1f} s to stop"
