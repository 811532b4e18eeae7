"""Every piece of input text is escaped: case names, descriptions, labels,
expressions, properties, provenance, file names, in HTML and JUnit."""

import os
import re
import xml.etree.ElementTree as ET

from bpfcheck.cli import main

EVIL = "<script>alert(1)</script>"
ATTR = "\"><img src=x onerror=alert(2)>"


def _hostile_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = f"{ATTR}.toml"                                  # a hostile file name
    (corpus / name).write_text(f"""format = "bpfcheck-case/1"
name = "{EVIL.replace('"', '')}\\u0001bell"
description = "{ATTR.replace('"', '&quot;')} and \\u0007"
[program]
text = "ldh [12]\\njeq #0x800, ok, drop\\nok: ret #0x40000\\ndrop: ret #0"
[[packets]]
hex = "000000000000000000000000080045"
verdict = 0x1
label = "</td>{EVIL}"
[[properties]]
property = "accepted -> {EVIL}"
[provenance]
link = "javascript:alert(3)"
note = "{EVIL}"
""", encoding="utf-8")
    (corpus / "expr.toml").write_text(f"""format = "bpfcheck-case/1"
[program]
expr = "tcp port 80 and {EVIL}"
""", encoding="utf-8")
    return corpus


def _all_html(out):
    for directory, _, files in os.walk(out):
        for f in files:
            if f.endswith(".html"):
                with open(os.path.join(directory, f), encoding="utf-8") as fh:
                    yield f, fh.read()


def test_hostile_text_is_shown_escaped(tmp_path, capsys):
    corpus = _hostile_corpus(tmp_path)
    out, junit = tmp_path / "report", tmp_path / "j.xml"
    assert main(["corpus", "run", str(corpus), "--html", str(out), "--junit", str(junit), "-j", "1", "-q"]) == 1
    pages = dict(_all_html(out))
    assert len(pages) == 3
    for name, html in pages.items():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", name), name           # file names are slugs
        assert "<script" not in html.lower(), name
        assert "<img" not in html.lower(), name
        assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", ""), name
        assert 'href="javascript:' not in html, name
    text = "\n".join(pages.values())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text           # shown, as text
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert "&lt;/td&gt;" in text
    for href in re.findall(r'href="([^"]*)"', pages["index.html"]):
        assert re.fullmatch(r"cases/[A-Za-z0-9_-]+\.html", href), href
    root = ET.parse(junit).getroot()                                   # well-formed despite \x01 and \x07
    names = [t.get("name") for t in root.iter("testcase")]
    assert any(n and "\\u0001bell" in n for n in names)
    assert any(EVIL in (t.text or "") for t in root.iter() if t.tag in ("failure", "error"))
