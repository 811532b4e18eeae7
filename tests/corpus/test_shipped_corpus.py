"""The shipped corpus: what it holds, and one full run (the CI job)."""

import glob
import os
import xml.etree.ElementTree as ET

import pytest
from corpus_support import CORPORA, cli

from bpfcheck.corpus.case import load_case
from bpfcheck.corpus.discover import find_cases


def _cases(sub):
    return [load_case(p) for p in sorted(glob.glob(os.path.join(CORPORA, sub, "*.toml")))]


def test_at_least_150_real_tcpdump_expressions_with_checked_verdicts():
    cases = _cases("tcpdump")
    assert len(cases) >= 150
    assert len({c.program.expr for c in cases}) == len(cases)
    for c in cases:
        assert c.program.expr and c.target == "socket"
        assert len(c.packets) >= 5, c.name
        assert {v for v in (p.verdict for p in c.packets)} >= {0}, c.name
        assert "kernel AF_UNIX socket (exact verdicts)" in c.provenance["checked"]
        assert "libpcap bpf_filter" in c.provenance["checked"]
        assert c.properties and c.equivalent is not None
    accepting = sum(1 for c in cases if any(p.verdict for p in c.packets))
    assert accepting == len(cases)          # every filter is seen accepting something


def test_seccomp_socket_libpcap_and_regressions_are_there():
    assert len(_cases("seccomp")) >= 4 and all(c.target == "seccomp" for c in _cases("seccomp"))
    assert len(_cases("libpcap")) >= 20 and all(c.target == "pcap" for c in _cases("libpcap"))
    assert len(_cases("socket")) >= 4
    regressions = _cases("regressions")
    assert regressions and all(c.provenance.get("source") for c in regressions)
    assert os.path.exists(os.path.join(CORPORA, "regressions", "README.md"))


@pytest.mark.slow
def test_the_whole_corpus_is_green_with_one_testcase_per_case(tmp_path):
    """Done-when: `bpfcheck corpus run corpora --junit J --html H` is green,
    J has one testcase per case, H has a page per case."""
    junit, html = tmp_path / "j.xml", tmp_path / "h"
    code, out, err = cli("corpus", "run", CORPORA, "--junit", str(junit), "--html", str(html), "-j", "2",
                         timeout=600)
    assert code == 0, out + err[-3000:]
    cases = find_cases(CORPORA)
    testcases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    assert len(testcases) == len(cases) >= 150
    assert all(len(t) == 0 for t in testcases)            # no failure, error or skipped
    assert len(list((html / "cases").glob("*.html"))) == len(cases)
    assert "kernel (AF_UNIX)" in out and "libpcap" in out
