"""The README's terminal transcripts, run: every `$ command` shown must
print what the README says it prints (timings aside; a line "..." stands
for lines left out).  Commands on files a reader brings along (their own
capture, corpus or test directory) and campaigns that run for minutes are
not run here; `make demo` runs the shipped corpus."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from oracle_marks import needs_kernel, needs_libpcap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOT_RUN = ("sample.pcap", "mine", "corpora", "pytest ", "bpfcheck fuzz ", "heads.pcap")
MARKER = "@@bpfcheck-readme-transcript@@"


def _transcripts():
    """Each fenced block that starts with a prompt: [(command, expected lines)]."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for block in re.findall(r"```\n(\$ .*?)```", readme, re.S):
        commands = []
        for line in block.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        yield commands


def _normal(line: str) -> str:
    return re.sub(r"\d+\.\d+ ?s\b", "T s", line).rstrip()


def _mismatch(expected, actual):
    """None when ``actual`` shows ``expected``; else what differs."""
    actual = [_normal(line) for line in actual]
    at, skipping = 0, False
    for line in expected:
        if line.strip().startswith("..."):
            skipping = True
            continue
        line = _normal(line)
        if skipping:
            while at < len(actual) and actual[at] != line:
                at += 1
            if at == len(actual):
                return f"no line {line!r} after a '...'"
            skipping = False
        elif at >= len(actual) or actual[at] != line:
            return f"line {at + 1}: the README shows {line!r}, the command printed " \
                   f"{actual[at] if at < len(actual) else 'nothing more'!r}"
        at += 1
    if not skipping and at < len(actual):
        return f"line {at + 1}: the command printed {actual[at]!r}, which the README leaves out"
    return None


def _script(commands, workdir):
    """One shell for the block (so `echo $?` sees the command before it);
    a file the README only shows with `cat` is written first."""
    lines = ["status=0"]
    for command, expected in commands:
        shown = re.fullmatch(r"cat (\S+)", command)
        if shown and not os.path.exists(os.path.join(workdir, shown.group(1))):
            with open(os.path.join(workdir, shown.group(1)), "w", encoding="utf-8") as f:
                f.write("\n".join(expected) + "\n")
        # The marker's echo would reset $?: the last command's status is
        # put back before each command.
        lines.append(f"echo {MARKER}; (exit $status)")
        lines.append(f"{{ {command}\n}} 2>&1; status=$?")
    return "\n".join(lines) + "\n"


@needs_kernel
@needs_libpcap
def test_every_transcript_prints_what_the_readme_shows(tmp_path):
    if shutil.which("bpfcheck", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("the bpfcheck command is not installed next to this Python")
    os.symlink(os.path.join(ROOT, "tests"), tmp_path / "tests")
    # One solver thread: a question the second core races may be answered
    # by either solver, with a different (equally minimal) witness.
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
               BPFCHECK_SOLVER_THREADS="1")
    problems, ran = [], 0
    for commands in _transcripts():
        commands = [(c, e) for c, e in commands if not any(word in c for word in NOT_RUN)]
        if not commands:
            continue
        done = subprocess.run(["bash", "-c", _script(commands, str(tmp_path))], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        outputs = done.stdout.split(MARKER + "\n")[1:]
        for (command, expected), output in zip(commands, outputs):
            ran += 1
            problem = _mismatch(expected, output.splitlines())
            if problem:
                problems.append(f"$ {command}\n    {problem}")
    assert ran >= 20, f"only {ran} README commands found to run"
    assert not problems, ("README transcripts out of date (with the versions of constraints.txt):\n"
                          + "\n".join(problems))


def _demo_excerpt():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    found = re.search(r"```\n(bpfcheck demo: .*?)```", readme, re.S)
    assert found, "the README shows no `make demo` excerpt"
    return [line for line in found.group(1).splitlines() if line.strip()]


@needs_kernel
@needs_libpcap
def test_the_demo_prints_what_the_readme_excerpt_shows(tmp_path):
    """The excerpt is abridged: its lines must come, in order, among the
    demo's (timings aside; the report is written to a scratch directory)."""
    out = tmp_path / "report"
    env = dict(os.environ, BPFCHECK_SOLVER_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "bpfcheck", "demo", "--out", str(out), "-j", "2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = os.path.relpath(out, ROOT)     # how the demo names the report it wrote
    printed = [_normal(line.replace(shown, "reports/out")) for line in done.stdout.splitlines()]
    at = 0
    for line in _demo_excerpt():
        line = _normal(line)
        while at < len(printed) and printed[at] != line:
            at += 1
        assert at < len(printed), f"the README's demo excerpt shows {line!r}, which make demo does not print " \
                                  f"(there or after the lines before it)"
        at += 1
