"""`bpfcheck corpus run`: exit codes, JSON, JUnit, HTML, interruption."""

import os
import re
import signal
import subprocess
import xml.etree.ElementTree as ET

import pytest
from corpus_support import CORPORA, PYTHON, ROOT, cli, cli_json, pytest_run, tcp80_case, write


def _mixed(tmp_path):
    tcp80_case(tmp_path, "good")
    tcp80_case(tmp_path, "bad", verdict="0x7", filename="sub/bad.toml")
    write(tmp_path, "notes.toml", "[tool]\nsetting = 1\n")          # not a case: ignored
    return tmp_path


def test_json_junit_and_html(tmp_path):
    corpus = _mixed(tmp_path / "c")
    junit, html = tmp_path / "j.xml", tmp_path / "html"
    code, obj, err = cli_json("corpus", "run", str(corpus), "--junit", str(junit), "--html", str(html), "-j", "2")
    assert code == 1
    assert obj["status"] == "failed" and obj["cases"] == 2 and obj["passed"] == 1
    [failure] = obj["failures"]
    assert failure["case"] == "bad" and failure["where"] == "packets[0]"
    assert failure["expected"] == "0x7" and failure["got"]["reference VM"] == "0x40000"
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert sorted(c.get("name") for c in cases) == ["bad", "good"]
    bad = next(c for c in cases if c.get("name") == "bad")
    assert "expected 0x7, got 0x40000" in bad.find("failure").text
    assert bad.get("classname") == "corpus.sub"
    assert (html / "index.html").exists() and len(list((html / "cases").glob("*.html"))) == 2


def test_text_output_and_exit_codes(tmp_path):
    tcp80_case(tmp_path, "good")
    code, out, err = cli("corpus", "run", str(tmp_path), "-j", "1")
    assert code == 0, out + err
    assert "1 case: 1 passed, 0 failed" in out and "checked by: reference VM 2" in out
    assert "corpus: 1/1 cases, 0 failed" in err            # progress, on standard error
    code, out, err = cli("corpus", "run", str(tmp_path / "missing"))
    assert code == 2 and err.count("\n") == 1 and "no such directory" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, obj, err = cli_json("corpus", "run", str(empty))
    assert code == 2 and obj["status"] == "error" and "no case files" in obj["message"]


def test_one_changed_verdict_fails_both_runners_naming_the_case(tmp_path):
    """Done-when: change one expected verdict of a shipped case; `corpus run`
    and `pytest` both fail, name the case, show expected and got."""
    case = tmp_path / "tcp-port-80.toml"
    text = open(os.path.join(CORPORA, "tcpdump", "tcp-port-80.toml"), encoding="utf-8").read()
    m = re.search(r"verdict = (0x[0-9a-f]+)", text)
    old = m.group(1)
    new = "0x0" if old != "0x0" else "0x40000"
    case.write_text(text[:m.start(1)] + new + text[m.end(1):], encoding="utf-8")
    code, out, err = cli("corpus", "run", str(tmp_path))
    assert code == 1
    assert f"FAILED: tcp-port-80 (tcp-port-80.toml)" in out
    assert f"packets[0]" in out and f"expected {new}, got {old} from the reference VM" in out
    code, out = pytest_run(str(tmp_path), cwd=str(tmp_path))
    assert code == 1, out
    assert "tcp-port-80.toml::tcp-port-80" in out and "1 failed" in out
    assert f"expected {new}, got {old} from the reference VM" in out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_cleanly(tmp_path, signum):
    corpus = tmp_path / "c"
    for i in range(80):      # failing cases: each is reported on stderr as soon as it ends
        tcp80_case(corpus, f"case{i:02d}", verdict="0x7")
    junit, html = tmp_path / "j.xml", tmp_path / "html"
    proc = subprocess.Popen([PYTHON, "-m", "bpfcheck", "corpus", "run", str(corpus), "-j", "2",
                             "--junit", str(junit), "--html", str(html)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = proc.stderr.readline()
    assert line.startswith("FAILED: case"), line
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, out + err
    name = signal.Signals(signum).name
    assert f"interrupted by {name}" in out
    ran = int(re.search(r"(\d+) of 80 cases ran", out).group(1))
    assert 1 <= ran < 80
    root = ET.parse(junit).getroot()                   # complete, well-formed: written atomically
    cases = root.find("testsuite").findall("testcase")
    assert len(cases) == 80
    assert sum(1 for c in cases if c.find("skipped") is not None) == 80 - ran
    assert "interrupted" in (html / "index.html").read_text()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_the_default_progress_is_periodic_lines_off_a_terminal(tmp_path):
    from io import StringIO

    from bpfcheck.corpus.progress import Progress
    from bpfcheck.corpus.results import CaseResult

    class Tty(StringIO):
        def isatty(self):
            return True
    live, plain = Tty(), StringIO()
    for stream in (live, plain):
        p = Progress(3, stream, period=0.0)
        for status in ("passed", "failed", "passed"):
            p.update(CaseResult(f"{status}.toml", status, status))
        p.finish()
    assert "\r\033[K" in live.getvalue() and "FAILED: failed (failed.toml)" in live.getvalue()
    assert "\r" not in plain.getvalue()
    assert plain.getvalue().splitlines()[-1].startswith("corpus: 3/3 cases, 1 failed")


