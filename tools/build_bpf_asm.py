#!/usr/bin/env python3
"""Build the kernel's cBPF assembler, tools/bpf/bpf_asm, from Debian's
linux-source package (Debian ships no binary of it).

    python3 tools/build_bpf_asm.py OUT      # e.g. .venv/bin/bpf_asm

The format tests hold bpfcheck's bpf_asm reader and writer against it, and
tests/golden/regenerate.py makes the golden files with it.  Only the three
sources of the tool are taken from the tarball, into a temporary directory;
no kernel code is kept.  ``make test`` runs this as best effort: without
network or package, it says why and exits 1, and the tests that need the
tool skip, naming the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

_SOURCES = ("tools/bpf/bpf_exp.l", "tools/bpf/bpf_exp.y", "tools/bpf/bpf_asm.c")


def _tarballs():
    return sorted(glob.glob("/usr/src/linux-source-*.tar.*"))


def build(workdir: Path) -> Path:
    """Build bpf_asm in ``workdir`` from the newest kernel source tarball under /usr/src."""
    tarballs = _tarballs()
    if not tarballs:
        raise SystemExit("no bpf_asm: install linux-source-* (apt-get install linux-source flex bison)")
    with tarfile.open(tarballs[-1]) as tar:
        for member in tar:
            if member.name.endswith(_SOURCES):
                member.name = os.path.basename(member.name)
                tar.extract(member, workdir)
    run = lambda *cmd: subprocess.run(cmd, cwd=workdir, check=True)  # noqa: E731
    run("bison", "-d", "-o", "bpf_exp.yacc.c", "bpf_exp.y")
    run("flex", "-o", "bpf_exp.lex.c", "bpf_exp.l")
    run("cc", "-O1", "-I.", "-o", "bpf_asm", "bpf_asm.c", "bpf_exp.yacc.c", "bpf_exp.lex.c")
    return workdir / "bpf_asm"


def _install_sources() -> None:
    if _tarballs() and shutil.which("flex") and shutil.which("bison") and shutil.which("cc"):
        return
    print("installing linux-source, flex and bison with apt-get (to build bpf_asm)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    quiet = dict(stdout=subprocess.DEVNULL, env=env, check=True)
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", "linux-source", "flex", "bison", "gcc", "libc6-dev"], **quiet)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: build_bpf_asm.py OUT", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    if os.access(out, os.X_OK):
        return 0
    try:
        _install_sources()
        with tempfile.TemporaryDirectory() as tmp:
            built = build(Path(tmp))
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, out)
    except (OSError, subprocess.CalledProcessError, tarfile.TarError, SystemExit) as e:
        print(f"bpf_asm not built ({e}): the tests that need it will skip", file=sys.stderr)
        return 1
    print(f"built {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
