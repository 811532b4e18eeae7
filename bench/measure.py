"""Timing helpers for the benchmark: best-of-N in process, whole processes
with their wall time and peak memory, and the libpcap C harness.

Best-of-N because this runs on shared machines: the fastest run is the
one least disturbed by other work, and every rate is measured the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))


def best_of(fn: Callable[[], object], repeat: int) -> Tuple[float, object]:
    """(fastest wall time in seconds, result of the last run)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_process(argv: Sequence[str], env=None) -> Tuple[float, int, str, str]:
    """(wall seconds, exit status, stdout, stderr) of one process."""
    start = time.perf_counter()
    proc = subprocess.run(list(argv), capture_output=True, env=env)
    wall = time.perf_counter() - start
    return wall, proc.returncode, proc.stdout.decode(errors="replace"), \
        proc.stderr.decode(errors="replace")


def best_process(argv: Sequence[str], repeat: int, env=None) -> Tuple[float, str]:
    """(fastest wall time, its stdout)."""
    best = (float("inf"), "")
    for _ in range(max(1, repeat)):
        wall, status, out, err = run_process(argv, env)
        if status != 0:
            raise RuntimeError(f"exit status {status}: {' '.join(argv)}\n{err[-500:]}")
        best = min(best, (wall, out))
    return best


def interleaved(commands: Dict[str, Tuple[Sequence[str], Optional[dict]]],
                repeat: int) -> Dict[str, List[float]]:
    """Wall times of each named ``(argv, env)`` over ``repeat`` rounds, the
    commands taking turns within a round, so that a burst of load from
    elsewhere on a shared machine falls on all of them alike."""
    walls: Dict[str, List[float]] = {name: [] for name in commands}
    for _ in range(max(1, repeat)):
        for name, (argv, env) in commands.items():
            wall, status, _, err = run_process(argv, env)
            if status != 0:
                raise RuntimeError(f"exit status {status}: {' '.join(argv)}\n{err[-500:]}")
            walls[name].append(wall)
    return walls


def peak_memory(args: Sequence[str], env=None) -> int:
    """Peak resident KiB of ``bpfcheck ARGS`` (see bench/peak.py)."""
    _, status, _, err = run_process([sys.executable, os.path.join(HERE, "peak.py")] + list(args), env)
    for line in err.splitlines():
        if line.startswith("peak-rss-kib "):
            return int(line.split()[1])
    raise RuntimeError(f"bench/peak.py failed (status {status}): {err[-500:]}")


def python_env(cache_dir: str) -> dict:
    """The environment for timing ``bpfcheck`` as an installed tool runs:
    with a bytecode cache (kept under bench/out) even where the shell says
    PYTHONDONTWRITEBYTECODE, or each start would recompile every module."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


# --- libpcap's bpf_filter in C ------------------------------------------------------
def build_harness(out_dir: str) -> Tuple[Optional[str], str]:
    """Compile bench/harness.c against libpcap.so.0.8 by name (no -dev
    package needed).  Returns (path or None, why not)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None, "no C compiler (cc/gcc) on PATH"
    exe = os.path.join(out_dir, "harness")
    src = os.path.join(HERE, "harness.c")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe, ""
    attempts: List[List[str]] = [["-l:libpcap.so.0.8"]]
    for line in _ldconfig():
        if "libpcap.so.0.8 " in line and "=>" in line:
            attempts.append([line.split("=>")[1].strip()])
    errors = ""
    for libs in attempts:
        proc = subprocess.run([cc, "-O2", "-o", exe, src] + libs, capture_output=True, text=True)
        if proc.returncode == 0:
            return exe, ""
        errors = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    return None, f"cannot build the harness against libpcap.so.0.8: {errors}"


def _ldconfig() -> List[str]:
    try:
        return subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines()
    except OSError:
        return []


def run_harness(exe: str, program_bytes: bytes, capture: str, repeat: int,
                out_dir: str) -> Tuple[int, float, bytes]:
    """(packets, seconds of the best filtering pass, verdicts as raw uint32s)."""
    prog = os.path.join(out_dir, "program.bin")
    verdicts = os.path.join(out_dir, "verdicts.bin")
    with open(prog, "wb") as f:
        f.write(program_bytes)
    proc = subprocess.run([exe, prog, capture, str(repeat), verdicts], capture_output=True,
                          text=True, check=True)
    count, _accepted, seconds = proc.stdout.split()
    with open(verdicts, "rb") as f:
        raw = f.read()
    return int(count), float(seconds), raw
