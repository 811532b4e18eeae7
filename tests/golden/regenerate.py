#!/usr/bin/env python3
"""Rebuild the golden files of the text-format tests from the real tools.

    python tests/golden/regenerate.py              # both parts
    python tests/golden/regenerate.py tcpdump      # tcpdump -d/-dd/-ddd only
    python tests/golden/regenerate.py asm [--bpf-asm PATH]

**tcpdump**: every expression of ``tests/data/expressions.txt`` goes
through ``tcpdump -y EN10MB -d``, ``-dd`` and ``-ddd`` (optimized), and
every fourth one also with ``-O`` (unoptimized).  The outputs are stored
verbatim as ``tcpdump/<id>.d|.dd|.ddd`` (``<id>-O`` for unoptimized) and
``tcpdump/index.tsv`` maps ids to expressions.  An expression tcpdump
rejects stops the script: fix expressions.txt.

**asm**: the kernel's ``bpf_asm`` assembles ``asm/*.asm`` (stored as
``<name>.c``, its ``-c`` output, and ``<name>.raw``, its default output)
and each case of ``asm/cases.txt`` (verdicts in ``asm/cases.json``).
bpf_asm is not packaged: pass ``--bpf-asm PATH`` or set ``BPF_ASM``, or
have ``linux-source-*`` (Debian: ``apt-get install linux-source-6.1 flex
bison``) under /usr/src, from which the script builds tools/bpf/bpf_asm in
a temporary directory (tools/build_bpf_asm.py; ``make test`` builds one
into .venv/bin).  Only the sources and the tool's outputs are
committed, never kernel code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tools"))
from build_bpf_asm import build as build_bpf_asm  # noqa: E402
EXPRESSIONS = HERE.parent / "data" / "expressions.txt"
TCPDUMP_DIR = HERE / "tcpdump"
ASM_DIR = HERE / "asm"
UNOPTIMIZED_EVERY = 4


# --- tcpdump -------------------------------------------------------------

def read_expressions(path: Path = EXPRESSIONS) -> list[str]:
    """The expressions of ``expressions.txt``: one per line, '#' comments and blanks skipped."""
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def golden_ids(expressions: list[str]) -> list[tuple[str, str, bool]]:
    """(id, expression, optimized) for every golden listing."""
    ids = []
    for n, expr in enumerate(expressions):
        ids.append((f"{n:03d}", expr, True))
        if n % UNOPTIMIZED_EVERY == 0:
            ids.append((f"{n:03d}-O", expr, False))
    return ids


def run_tcpdump(flag: str, expr: str, optimized: bool) -> str:
    cmd = ["tcpdump", "-y", "EN10MB", flag] + ([] if optimized else ["-O"]) + ["--", expr]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"tcpdump rejected {expr!r}: {done.stderr.strip()}")
    return done.stdout


def regenerate_tcpdump() -> None:
    version = subprocess.run(["tcpdump", "--version"], capture_output=True,
                             text=True).stdout.splitlines()
    if TCPDUMP_DIR.exists():
        shutil.rmtree(TCPDUMP_DIR)
    TCPDUMP_DIR.mkdir(parents=True)
    index = [f"# made by tests/golden/regenerate.py with {'; '.join(version[:2])}",
             "# id\texpression  (ids ending in -O were compiled with -O, unoptimized)"]
    ids = golden_ids(read_expressions())
    for ident, expr, optimized in ids:
        for flag, suffix in (("-d", "d"), ("-dd", "dd"), ("-ddd", "ddd")):
            (TCPDUMP_DIR / f"{ident}.{suffix}").write_text(run_tcpdump(flag, expr, optimized))
        index.append(f"{ident}\t{expr}")
    (TCPDUMP_DIR / "index.tsv").write_text("\n".join(index) + "\n")
    print(f"tcpdump: {len(ids)} listings in {TCPDUMP_DIR}")


# --- bpf_asm -------------------------------------------------------------

def assemble(bpf_asm: Path, source: str, c_style: bool) -> subprocess.CompletedProcess:
    args = [str(bpf_asm)] + (["-c"] if c_style else [])
    return subprocess.run(args, input=source.encode(), capture_output=True, timeout=60)


def read_cases(path: Path) -> list[tuple[str, str]]:
    """(name, source) of each '=== name' case of cases.txt, byte-exact."""
    cases, name, lines = [], None, []
    with open(path, newline="") as f:          # keep '\r' bytes as written
        text = f.read()
    for line in (part + "\n" for part in text.split("\n")[:-1]):
        if line.startswith("=== "):
            if name is not None:
                cases.append((name, "".join(lines)))
            name, lines = line[4:].strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        cases.append((name, "".join(lines)))
    return cases


def regenerate_asm(bpf_asm: Path) -> None:
    for source_path in sorted(ASM_DIR.glob("*.asm")):
        source = source_path.read_text()
        for c_style, suffix in ((True, ".c"), (False, ".raw")):
            done = assemble(bpf_asm, source, c_style)
            if done.returncode != 0:
                raise SystemExit(f"bpf_asm rejected {source_path}: {done.stderr.decode()}")
            source_path.with_suffix(suffix).write_bytes(done.stdout)
    verdicts = []
    for name, source in read_cases(ASM_DIR / "cases.txt"):
        c_out = assemble(bpf_asm, source, True)
        raw = assemble(bpf_asm, source, False)
        accepted = c_out.returncode == 0
        # On a lexical error bpf_asm prints part of its message on stdout.
        message = c_out.stdout.decode() + c_out.stderr.decode() if not accepted else ""
        verdicts.append({"name": name, "source": source, "accepted": accepted,
                         "c": c_out.stdout.decode() if accepted else "",
                         "raw": raw.stdout.decode() if accepted else "",
                         "message": message})
    (ASM_DIR / "cases.json").write_text(json.dumps(verdicts, indent=1) + "\n")
    print(f"asm: {len(verdicts)} cases and the .asm files assembled by {bpf_asm}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="{tcpdump,asm}")
    parser.add_argument("--bpf-asm", default=os.environ.get("BPF_ASM"))
    args = parser.parse_args(argv)
    parts = args.parts or ["tcpdump", "asm"]
    if not set(parts) <= {"tcpdump", "asm"}:
        parser.error(f"unknown part in {parts}; choose tcpdump and/or asm")
    if "tcpdump" in parts:
        regenerate_tcpdump()
    if "asm" in parts:
        if args.bpf_asm:
            regenerate_asm(Path(args.bpf_asm))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                regenerate_asm(build_bpf_asm(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
