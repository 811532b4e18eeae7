"""The pytest plugin: cases are items, other TOML files are left alone,
pytest-xdist workers collect the same items.  (Each test is one pytest
subprocess: they are the slow part, so each checks several things.)"""

import os
import shutil

from corpus_support import CORPORA, pytest_run, tcp80_case, write


def test_collection_and_failure_output(tmp_path):
    tcp80_case(tmp_path, "good")
    tcp80_case(tmp_path, "bad", verdict="0x1", filename="deep/bad.toml")
    write(tmp_path, "pyproject.toml", "[project]\nname = \"x\"\n")            # not a case
    write(tmp_path / "corpora", "typo.toml", "fromat = \"bpfcheck-case/1\"\n")  # a case: under corpora/
    code, out = pytest_run("-rA", str(tmp_path), cwd=str(tmp_path))
    assert code == 1, out
    assert "2 failed, 1 passed" in out
    assert "PASSED good.toml::good" in out
    assert "FAILED deep/bad.toml::bad" in out
    assert "packets[0] (a SYN to port 80): expected 0x1, got 0x40000 from the reference VM" in out
    assert "FAILED corpora/typo.toml::typo" in out and "format must be" in out
    assert "pyproject" not in out


def test_shipped_cases_pass_under_xdist(tmp_path):
    sample = tmp_path / "corpora"
    for sub, name in (("tcpdump", "tcp-port-80.toml"), ("seccomp", "socket-domains.toml"),
                      ("socket", "vlan-tag.toml"), ("libpcap", "esp.toml"),
                      ("regressions", "optimizer-port-80-or-port-443.toml")):
        os.makedirs(sample / sub, exist_ok=True)
        shutil.copy(os.path.join(CORPORA, sub, name), sample / sub / name)
    code, out = pytest_run("-n", "2", str(sample), cwd=str(tmp_path))
    assert code == 0 and "5 passed" in out, out
