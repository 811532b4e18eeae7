"""Issue 8, point 3: SIGINT and SIGTERM during a fuzz campaign or a corpus
run keep everything found so far on disk and consistent; two processes
writing to one corpus never corrupt it.

The fuzz campaigns run through ``buggy_bpfcheck.py`` (the real command
line, with bugs planted in the reference VM so findings come within
seconds).  Twenty campaigns are killed at random moments, ten with SIGINT
and ten with SIGTERM, sent either to the process or to its whole process
group (as a terminal's Ctrl-C or a service manager does).  Four lanes run
at once; two lanes share each corpus, so two campaigns write one corpus
concurrently, and every campaign after the first resumes a killed one.

After each kill: every file under the corpus is whole (each case file
loads, the state file is JSON of its format), no temporary file is left,
no two case files hold the same finding, and every finding the process
announced before it was killed (``fuzz: finding written: PATH``) is on
disk.  At the end the corpora replay: ``bpfcheck corpus run`` passes on
every finding (each expects the real implementation's answer, which the
real bpfcheck gives).

The moments are random; the seed is printed with every failure and can be
pinned with ``BPFCHECK_KILL_SEED``.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import List, Optional

import pytest

from bpfcheck.atomic import locked
from bpfcheck.corpus.case import load_case
from bpfcheck.corpus.discover import find_cases
from bpfcheck.errors import BpfcheckError
from bpfcheck.fuzz.state import FORMAT as STATE_FORMAT
from bpfcheck.fuzz.state import STATE_DIR
from conftest import bpfcheck_env

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUGGY = os.path.join(HERE, "buggy_bpfcheck.py")
LINUX = sys.platform.startswith("linux")

SEED = int(os.environ.get("BPFCHECK_KILL_SEED") or random.randrange(1 << 32))
LANES = 4                    # campaigns running at once; lanes 2k and 2k+1 share a corpus
KILLS_PER_LANE = 5           # 20 kills in all
#: a killed campaign must be gone within this (it finishes the case at hand)
STOP_SECONDS = 30.0
#: exit codes a kill may leave: 0/1 (stopped cleanly, with or without
#: findings), 130 (SIGINT while the command line was being read), and death
#: by the signal itself when it came before Python had set any handler
CLEAN_EXITS = (0, 1)
EARLY_EXITS = (130, -signal.SIGINT, -signal.SIGTERM)

FINDING_LINE = re.compile(r"^fuzz: finding written: (\S+\.toml)$", re.MULTILINE)

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(not LINUX, reason="the fuzz oracles need Linux")]


@dataclass
class Kill:
    lane: int
    number: int
    sig: int
    group: bool
    delay: float
    jobs: int
    returncode: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    stop_seconds: float = 0.0
    problems: List[str] = field(default_factory=list)

    def describe(self) -> str:
        return (f"lane {self.lane} kill {self.number}: {signal.Signals(self.sig).name} to the "
                f"{'process group' if self.group else 'process'} after {self.delay:.2f} s (-j {self.jobs}), "
                f"exit {self.returncode}, stopped in {self.stop_seconds:.1f} s (BPFCHECK_KILL_SEED={SEED})\n"
                f"  stdout: {self.stdout[-400:]!r}\n  stderr: {self.stderr[-800:]!r}")

    @property
    def announced(self) -> List[str]:
        return FINDING_LINE.findall(self.stderr)


def _plan() -> List[List[Kill]]:
    rnd = random.Random(SEED)
    signals = [signal.SIGINT, signal.SIGTERM] * (LANES * KILLS_PER_LANE // 2)
    rnd.shuffle(signals)
    lanes = []
    for lane in range(LANES):
        kills = []
        for number in range(KILLS_PER_LANE):
            sig = signals.pop()
            # mostly while the campaign runs; now and then while it starts up
            delay = rnd.uniform(0.05, 1.0) if rnd.random() < 0.2 else rnd.uniform(1.0, 5.0)
            kills.append(Kill(lane, number, sig, group=rnd.random() < 0.5, delay=delay, jobs=1 + lane % 2))
        lanes.append(kills)
    return lanes


def _campaign(corpus: str, kill: Kill) -> None:
    proc = subprocess.Popen(
        [sys.executable, BUGGY, "fuzz", "--corpus", corpus, "-j", str(kill.jobs), "--seed", "7",
         "--inputs", "64", "--shrink-time", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bpfcheck_env(), start_new_session=True)
    out: dict = {}
    readers = [threading.Thread(target=lambda name=name, stream=stream: out.__setitem__(name, stream.read()),
                                daemon=True)
               for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    time.sleep(kill.delay)
    signalled = time.monotonic()
    try:
        if kill.group:
            os.killpg(proc.pid, kill.sig)
        else:
            proc.send_signal(kill.sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        kill.problems.append(f"still running {STOP_SECONDS:g} s after the signal")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    kill.stop_seconds = time.monotonic() - signalled
    for r in readers:
        r.join(10)
    kill.returncode = proc.returncode
    kill.stdout = out.get("stdout", b"").decode("utf-8", "replace")
    kill.stderr = out.get("stderr", b"").decode("utf-8", "replace")
    try:                       # nothing of the campaign may outlive it (its workers)
        os.killpg(proc.pid, 0)
        kill.problems.append("a process of the campaign's group is still alive after it exited")
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def corpus_problems(corpus: str) -> List[str]:
    """Everything wrong with a corpus directory on disk (an empty list when
    it is whole)."""
    problems = []
    signatures = {}
    for directory, _, files in os.walk(corpus):
        for name in files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, corpus)
            if name.endswith(".tmp") or name.startswith(".") and name != ".lock":
                problems.append(f"{rel}: a temporary or partial file was left behind")
            elif name.endswith(".toml"):
                try:
                    case = load_case(path)
                except BpfcheckError as e:
                    problems.append(f"{rel}: not a whole case file: {e}")
                    continue
                sig = case.provenance.get("signature")
                if sig in signatures:
                    problems.append(f"{rel}: the same finding as {signatures[sig]}")
                signatures[sig] = rel
            elif rel == os.path.join(STATE_DIR, "state.json"):
                try:
                    with open(path, encoding="utf-8") as f:
                        doc = json.load(f)
                    assert doc["format"] == STATE_FORMAT and isinstance(doc["seed"], int)
                except (ValueError, KeyError, AssertionError, TypeError) as e:
                    problems.append(f"{rel}: not a whole state file: {e!r}")
            elif name != ".lock":
                problems.append(f"{rel}: a file nobody should have written")
    cases = {os.path.relpath(p, corpus) for p in find_cases(corpus)}
    expected = set(signatures.values())
    if cases != expected:
        problems.append(f"corpus run would see {sorted(cases ^ expected)} differently from the files")
    return problems


def test_killing_fuzz_campaigns_twenty_times_never_corrupts_the_corpus(tmp_path):
    corpora = [str(tmp_path / f"corpus{k}") for k in range(LANES // 2)]
    plan = _plan()
    failures: List[str] = []
    lock = threading.Lock()
    announced_total = [0]

    def lane(kills: List[Kill]) -> None:
        corpus = corpora[kills[0].lane // 2]
        for kill in kills:
            _campaign(corpus, kill)
            if kill.returncode not in CLEAN_EXITS + EARLY_EXITS:
                kill.problems.append(f"exit code {kill.returncode}")
            if kill.returncode in CLEAN_EXITS and "(interrupted)" not in kill.stdout:
                kill.problems.append("stopped without saying it was interrupted")
            if "Traceback" in kill.stderr and kill.returncode in CLEAN_EXITS:
                kill.problems.append("a traceback")
            for path in kill.announced:
                if not os.path.isfile(path):
                    kill.problems.append(f"announced {path}, which is not on disk")
            # The corpus is shared with the other lane, which may be writing:
            # checked under the corpus lock that every writer takes, so a
            # temporary file seen is one a dead writer left, not one in flight.
            with locked(corpus):
                kill.problems += corpus_problems(corpus)
            with lock:
                announced_total[0] += len(kill.announced)
                if kill.problems:
                    failures.append(kill.describe() + "\n  " + "\n  ".join(kill.problems))

    threads = [threading.Thread(target=lane, args=(kills,)) for kills in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, "\n\n".join(failures)
    for corpus in corpora:                 # all writers gone: nothing in flight any more
        assert corpus_problems(corpus) == [], f"BPFCHECK_KILL_SEED={SEED}"
    # Every finding any campaign announced is still there (a later campaign
    # may only have added to it), and the test did exercise findings.
    for kills in plan:
        for kill in kills:
            for path in kill.announced:
                assert os.path.isfile(path), kill.describe()
    assert announced_total[0] >= 3, f"too few findings announced to test anything (seed {SEED})"
    kills = [k for ks in plan for k in ks]
    print(f"BPFCHECK_KILL_SEED={SEED}: " + "; ".join(
        f"{signal.Signals(k.sig).name[3:]}{'(group)' if k.group else ''}@{k.delay:.1f}s->exit {k.returncode}, "
        f"{len(k.announced)} found, stopped in {k.stop_seconds:.1f} s" for k in kills))
    assert sum(k.sig == signal.SIGINT for k in kills) == sum(k.sig == signal.SIGTERM for k in kills) == 10
    assert sum(k.returncode in CLEAN_EXITS for k in kills) >= 12, "too few kills came while a campaign ran"
    # The corpora replay: every finding is a whole, runnable case.
    for corpus in corpora:
        if not find_cases(corpus):
            continue
        done = subprocess.run([sys.executable, "-m", "bpfcheck", "corpus", "run", corpus, "-j", "2", "-q",
                               "--json"], cwd=ROOT, capture_output=True, text=True, env=bpfcheck_env(),
                              timeout=120)
        doc = json.loads(done.stdout)
        assert done.returncode == 0 and doc["status"] == "passed", (done.stdout[-2000:], done.stderr[-2000:])


# --- corpus run ---------------------------------------------------------------------------------
def _report_problems(junit: str, html: str) -> List[str]:
    problems = []
    if os.path.exists(junit):
        try:
            ET.parse(junit)
        except ET.ParseError as e:
            problems.append(f"JUnit file is not whole: {e}")
    index = os.path.join(html, "index.html")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            page = f.read()
        if not page.rstrip().endswith("</html>"):
            problems.append("index.html is not whole")
        for href in re.findall(r'href="(cases/[^"#]+)"', page):
            if not os.path.isfile(os.path.join(html, href)):
                problems.append(f"index.html links to {href}, which is not there")
    for directory in (os.path.dirname(junit), html):
        for d, _, files in os.walk(directory):
            problems += [f"{os.path.join(d, n)}: a temporary file was left behind" for n in files
                         if n.endswith(".tmp")]
    return problems


def test_an_interrupted_corpus_run_leaves_whole_reports(tmp_path):
    """A corpus run killed at random moments (SIGINT to the process,
    SIGTERM to its process group, SIGTERM to the process), over a report
    directory a previous run filled: JUnit and HTML are whole or absent,
    the index never links to a missing page, and the exit code says which
    signal."""
    rnd = random.Random(SEED)
    corpus = os.path.join(ROOT, "corpora")
    junit, html = str(tmp_path / "out" / "junit.xml"), str(tmp_path / "html")
    # a previous report in the same place, from a smaller corpus
    first = subprocess.run([sys.executable, "-m", "bpfcheck", "corpus", "run", os.path.join(corpus, "seccomp"),
                            "--html", html, "-q", "-j", "1"], cwd=ROOT, capture_output=True, env=bpfcheck_env(),
                           timeout=120)
    assert first.returncode == 0, first.stderr
    failures = []
    for attempt, (sig, group) in enumerate([(signal.SIGINT, False), (signal.SIGTERM, True),
                                            (signal.SIGTERM, False)]):
        os.makedirs(os.path.dirname(junit), exist_ok=True)
        delay = rnd.uniform(0.3, 3.0)
        proc = subprocess.Popen([sys.executable, "-m", "bpfcheck", "corpus", "run", corpus, "--junit", junit,
                                 "--html", html, "-j", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=bpfcheck_env(), start_new_session=True)
        time.sleep(delay)
        (os.killpg if group else os.kill)(proc.pid, sig)
        try:
            out, err = proc.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            failures.append(f"attempt {attempt}: still running {STOP_SECONDS:g} s after the signal")
        problems = _report_problems(junit, html)
        code = proc.returncode
        if code not in (0, 1, 128 + sig, -sig):
            problems.append(f"exit code {code}")
        if code == 128 + sig:
            if b"interrupted by" not in out:
                problems.append("the summary does not say it was interrupted")
            if not os.path.exists(junit) or not os.path.exists(os.path.join(html, "index.html")):
                problems.append("an interrupted run must still write JUnit and HTML")
            elif b"interrupted" not in open(os.path.join(html, "index.html"), "rb").read():
                problems.append("the report does not say the run was interrupted")
        if b"Traceback" in err:
            problems.append("a traceback")
        if problems:
            failures.append(f"attempt {attempt}: {signal.Signals(sig).name} to the "
                            f"{'group' if group else 'process'} after {delay:.2f} s, exit {code} "
                            f"(BPFCHECK_KILL_SEED={SEED}): " + "; ".join(problems)
                            + f"\n  stdout {out[-300:]!r}\n  stderr {err[-300:]!r}")
    assert not failures, "\n".join(failures)


LATE_SIGNAL = """
import os, signal, sys
import bpfcheck.report.write as write
original = write._remove_stale
def remove_then_signal(*args):
    original(*args)
    os.kill(os.getpid(), signal.SIGTERM)      # the old pages are gone, the new index not yet written
write._remove_stale = remove_then_signal
from bpfcheck.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_signal_while_the_report_is_written_waits_for_the_index(tmp_path):
    """The window a random kill rarely hits, hit on purpose: SIGTERM after
    the stale pages of the previous report are removed and before the new
    index is written.  The index must be the new one (the signal takes
    effect once the report is whole), never the old one linking to pages
    that are gone."""
    html = str(tmp_path / "html")
    corpora = os.path.join(ROOT, "corpora")
    first = subprocess.run([sys.executable, "-m", "bpfcheck", "corpus", "run", os.path.join(corpora, "seccomp"),
                            "--html", html, "-q", "-j", "1"], cwd=ROOT, capture_output=True, env=bpfcheck_env(),
                           timeout=120)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", LATE_SIGNAL, "corpus", "run", os.path.join(corpora, "socket"),
                             "--html", html, "-q", "-j", "1"], cwd=ROOT, capture_output=True, env=bpfcheck_env(),
                            timeout=120)
    assert second.returncode == -signal.SIGTERM, second.stderr
    assert _report_problems(str(tmp_path / "none.xml"), html) == []
    with open(os.path.join(html, "index.html"), encoding="utf-8") as f:
        assert "socket" in f.read()


def test_the_corpus_checker_can_fail(tmp_path):
    """The checks above would see a torn file, a stray temporary and a
    finding written twice."""
    corpus = tmp_path / "c"
    (corpus / "findings").mkdir(parents=True)
    whole = ('format = "bpfcheck-case/1"\n[program]\ntext = "ret #0"\n[provenance]\nsignature = "ab"\n'
             'source = "fuzz"\n')
    (corpus / "findings" / "a.toml").write_text(whole)
    assert corpus_problems(str(corpus)) == []
    (corpus / "findings" / "b.toml").write_text(whole)
    (corpus / "findings" / "c.toml").write_text(whole[:40])
    (corpus / "findings" / ".x.tmp").write_text(whole)
    problems = "\n".join(corpus_problems(str(corpus)))
    assert "b.toml: the same finding" in problems and "c.toml: not a whole case" in problems
    assert ".x.tmp: a temporary" in problems


def test_atomic_files_get_the_permissions_of_ordinary_ones(tmp_path):
    """Written through a private temporary file, a finding, a report or a
    JUnit file still gets what ``open(path, "w")`` would give it (or the
    mode the file had): a corpus a team shares stays readable."""
    from bpfcheck.atomic import write_atomic
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.toml", "x")
        with open(tmp_path / "plain.toml", "w") as f:
            f.write("x")
        assert os.stat(tmp_path / "new.toml").st_mode & 0o777 == os.stat(tmp_path / "plain.toml").st_mode & 0o777
        os.chmod(tmp_path / "plain.toml", 0o604)
        write_atomic(tmp_path / "plain.toml", "y")
        assert os.stat(tmp_path / "plain.toml").st_mode & 0o777 == 0o604
    finally:
        os.umask(old)
