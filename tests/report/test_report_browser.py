"""The report opens in a real browser with its pictures (Debian's chromium,
headless): screenshots of the index and of a program page are not blank,
and the program page shows the coverage colours of the SVG graph."""

import os
import shutil

from bpfcheck.cli import main

from pngcolours import colours, screenshot

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
#: the fill of an executed instruction in the graph (bpfcheck.report.svg.FILL["covered"])
COVERED_FILL = (0xCD, 0xEB, 0xD0)


def _report(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("tcpdump/tcp-port-80.toml", "tcpdump/vlan-100-and-tcp-port-80-or-udp-port-53.toml",
                 "seccomp/allowlist-x86_64.toml"):
        shutil.copy(os.path.join(ROOT, "corpora", name), corpus / os.path.basename(name))
    out = tmp_path / "report"
    assert main(["corpus", "run", str(corpus), "--html", str(out), "-j", "1", "-q"]) == 0
    return out


def test_index_and_program_page_render(tmp_path, chromium):
    out = _report(tmp_path)
    index = out / "index.html"
    page = next(p for p in (out / "cases").glob("*.html") if "vlan" in p.name)
    shots = {}
    for name, target in (("index", index), ("program", page)):
        png = screenshot(chromium, target.as_uri(), str(tmp_path / f"{name}.png"), str(tmp_path / f"profile-{name}"))
        shots[name] = colours(png)
    assert len(shots["index"]) >= 8, f"the index screenshot has {len(shots['index'])} colours: blank?"
    assert len(shots["program"]) >= 16, f"the program page has {len(shots['program'])} colours: blank?"
    assert COVERED_FILL in shots["program"], "no executed instruction drawn: the graph did not render"
