"""Writing the HTML report: ``index.html``, a page per case, downloads.

Layout of the report directory::

    index.html
    cases/<slug>.html            one page per case
    cases/<slug>/inputs.pcap     the case's packets
    cases/<slug>/<name>.pcap     each witness and failing packet (.json for seccomp)

``<slug>`` is made from the case's path with every character outside
``[A-Za-z0-9_-]`` replaced and a short hash appended, so hostile file
names cannot climb out of the directory or break a link.  Every file is
written atomically; the index last, so it never links to a missing page.
Files a previous report left in ``cases/`` and this one did not write are
removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from typing import Dict, List, Optional, Set

from ..atomic import write_atomic
from ..corpus.results import CaseResult, Evidence
from .html import case_page, index_page

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def slug(text: str, limit: int = 60) -> str:
    base = _UNSAFE.sub("-", text).strip("-")[:limit] or "case"
    return f"{base}-{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def write_report(results: List[CaseResult], directory: str, not_run: List[str] = (), seconds: float = 0.0,
                 interrupted: Optional[str] = None) -> str:
    """Write the report into ``directory``; returns the index's path."""
    cases_dir = os.path.join(directory, "cases")
    os.makedirs(cases_dir, exist_ok=True)
    written: Set[str] = set()
    links: Dict[str, str] = {}
    for r in results:
        name = slug(r.path)
        downloads = _write_downloads(r, os.path.join(cases_dir, name), name, written)
        path = os.path.join(cases_dir, name + ".html")
        write_atomic(path, case_page(r, downloads), fsync=False)
        written.add(path)
        links[r.path] = f"cases/{name}.html"
    _remove_stale(cases_dir, written)
    index = os.path.join(directory, "index.html")
    write_atomic(index, index_page(results, links, list(not_run), seconds, interrupted))
    return index


def _write_downloads(r: CaseResult, folder: str, name: str, written: Set[str]) -> Dict[str, str]:
    # Passing packets are all in inputs.pcap; witnesses and failures get a file each.
    evidence: List[Evidence] = [c.evidence for c in r.checks if c.evidence is not None
                                and (c.kind in ("property", "equivalence") or c.status != "passed")]
    inputs = [e for e in (r.report.inputs if r.report else []) if e.packet is not None]
    if not evidence and not inputs:
        return {}
    os.makedirs(folder, exist_ok=True)
    linktype = r.report.linktype if r.report else "EN10MB"
    downloads: Dict[str, str] = {}
    if inputs:
        path = os.path.join(folder, "inputs.pcap")
        _write_pcap(path, inputs, linktype)
        written.add(path)
        downloads["inputs"] = f"{name}/inputs.pcap"
    used = {"inputs"}
    for e in evidence:
        base = _UNSAFE.sub("-", e.name).strip("-") or "witness"
        stem, n = base, 2
        while stem in used:
            stem, n = f"{base}-{n}", n + 1
        used.add(stem)
        if e.packet is not None:
            path = os.path.join(folder, stem + ".pcap")
            _write_pcap(path, [e], linktype)
        elif e.seccomp is not None:
            path = os.path.join(folder, stem + ".json")
            write_atomic(path, json.dumps(asdict(e), indent=1) + "\n", fsync=False)
        else:
            continue
        written.add(path)
        downloads[e.name] = f"{name}/{os.path.basename(path)}"
    return downloads


def _write_pcap(path: str, items: List[Evidence], linktype: str) -> None:
    from ..pcapio import PcapWriter, linktype_number
    try:
        number = linktype_number(linktype)
    except Exception:       # a link type pcap has no number for: bytes are still bytes
        number = 1
    with PcapWriter(path, linktype=number, atomic=True) as writer:
        for e in items:
            data = bytes.fromhex(e.packet)
            wirelen = e.wirelen if e.wirelen is not None and e.wirelen >= len(data) else None
            writer.write(data, wirelen)


def _remove_stale(cases_dir: str, written: Set[str]) -> None:
    keep = {os.path.abspath(p) for p in written}
    for directory, dirs, files in os.walk(cases_dir, topdown=False):
        for f in files:
            path = os.path.abspath(os.path.join(directory, f))
            if path not in keep and f.endswith((".html", ".pcap", ".json")):
                os.unlink(path)
        if directory != cases_dir and not os.listdir(directory):
            os.rmdir(directory)
