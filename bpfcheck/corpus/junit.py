"""JUnit XML for CI systems: one ``<testcase>`` per corpus case.

A failed case carries a ``<failure>`` whose message is its first failure
and whose text explains them all (expected vs got, the witness); a case
that could not be read or built is an ``<error>``; a case an interrupted
run never reached is ``<skipped>``.  Text from case files is escaped, and
characters XML 1.0 cannot carry at all are written as ``\\uXXXX``.
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import List
from xml.sax.saxutils import quoteattr

from .results import ERROR, FAILED, CaseResult

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` with every character XML 1.0 forbids shown as ``\\uXXXX``."""
    return _ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


def _text(text: str) -> str:
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return quoteattr(clean(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def classname(result: CaseResult) -> str:
    directory = os.path.dirname(result.path)
    return "corpus" + ("." + directory.replace(os.sep, ".") if directory else "")


def junit_xml(results: List[CaseResult], not_run: List[str] = (), suite: str = "bpfcheck-corpus",
              seconds: float = 0.0) -> str:
    failures = sum(1 for r in results if r.status == FAILED)
    errors = sum(1 for r in results if r.status == ERROR)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name={_attr(suite)} tests="{len(results) + len(not_run)}" '
           f'failures="{failures}" errors="{errors}" time="{seconds:.3f}">',
           f'  <testsuite name={_attr(suite)} tests="{len(results) + len(not_run)}" failures="{failures}" '
           f'errors="{errors}" skipped="{len(not_run)}" time="{seconds:.3f}" '
           f'timestamp={_attr(time.strftime("%Y-%m-%dT%H:%M:%S"))} hostname={_attr(socket.gethostname())}>']
    for r in results:
        head = (f'    <testcase classname={_attr(classname(r))} name={_attr(r.name)} '
                f'file={_attr(r.path)} time="{r.seconds:.3f}"')
        if r.status not in (FAILED, ERROR):
            out.append(head + " />")
            continue
        out.append(head + ">")
        tag = "error" if r.status == ERROR else "failure"
        first = r.failures[0].explain().splitlines()[0] if r.failures else r.status
        out.append(f'      <{tag} message={_attr(first)} type={_attr(tag)}>{_text(r.explain())}</{tag}>')
        out.append("    </testcase>")
    for path in not_run:
        name = os.path.splitext(os.path.basename(path))[0]
        out.append(f'    <testcase classname={_attr("corpus")} name={_attr(name)} file={_attr(path)} time="0">')
        out.append('      <skipped message="not run: the corpus run was interrupted" />')
        out.append("    </testcase>")
    out += ["  </testsuite>", "</testsuites>", ""]
    return "\n".join(out)
