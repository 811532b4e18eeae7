"""Helpers for the corpus tests: small cases written on the fly."""

import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPORA = os.path.join(ROOT, "corpora")
PYTHON = sys.executable

TCP80 = """format = "bpfcheck-case/1"
name = "{name}"
target = "socket"

[program]
expr = "tcp port 80"

[[packets]]
hex = "{syn}"
verdict = {verdict}
label = "a SYN to port 80"

[[packets]]
hex = "00"
verdict = 0
label = "one byte"
"""

#: an Ethernet/IPv4/TCP SYN to port 80 (54 bytes)
SYN80 = ("ffffffffffff020000000001080045000028000100004006f97bc0a80001c0a8000204d2"
         "0050000000000000000050022000096d0000")


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def tcp80_case(directory, name="web", verdict="0x40000", filename=None):
    return write(directory, filename or f"{name}.toml", TCP80.format(name=name, syn=SYN80, verdict=verdict))


def cli(*args, cwd=None, timeout=300):
    """``python -m bpfcheck ARGS`` as a subprocess: (exit code, stdout, stderr)."""
    done = subprocess.run([PYTHON, "-m", "bpfcheck", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def cli_json(*args, **kw):
    code, out, err = cli(*args, "--json", **kw)
    return code, json.loads(out), err


def pytest_run(*args, cwd=None, timeout=300):
    done = subprocess.run([PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return done.returncode, done.stdout + done.stderr
