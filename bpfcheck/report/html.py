"""The report's pages as HTML text: an index and one page per case.

Every piece of text that comes from a case file, a program, a packet or a
file name goes through :func:`esc` (element text and quoted attribute
values alike); the pages are static, with no script.
"""

from __future__ import annotations

import time
from html import escape
from typing import Dict, List, Optional

from ..corpus.results import FAILED, PASSED, CaseResult, Check
from .svg import MAX_DRAWN, cfg_svg, legend_svg

CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #1a1a1a; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 6px 0; } h2 { font-size: 17px; margin: 26px 0 8px 0; }
a { color: #0b57d0; } code, pre, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #fff; border: 1px solid #ddd; padding: 10px; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; background: #fff; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 13px; }
th { background: #eef1f5; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.passed { background: #cdebd0; color: #1b5e20; } .failed { background: #ffcdd2; color: #b71c1c; }
.error { background: #ffe0b2; color: #8a3a00; } .skipped { background: #e0e0e0; color: #424242; }
.summary span { margin-right: 18px; } .muted { color: #666; }
.bar { display: inline-block; width: 90px; height: 10px; background: #ffd8b0; border: 1px solid #ccc; vertical-align: middle; }
.bar i { display: block; height: 100%; background: #4caf50; }
.graph { background: #fff; border: 1px solid #ddd; padding: 8px; overflow: auto; max-height: 1400px; }
.note { color: #8a3a00; }
td.evidence { max-width: 560px; word-break: break-all; }
"""


def esc(text) -> str:
    """Element text and attribute values alike (quotes included)."""
    return escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def badge(status: str) -> str:
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


def bar(percent: Optional[float]) -> str:
    if percent is None:
        return '<span class="muted">n/a</span>'
    return (f'<span class="bar" title="{percent:.1f} %"><i style="width:{max(0.0, min(100.0, percent)):.1f}%">'
            f'</i></span> {percent:.1f} %')


# --- the index ------------------------------------------------------------------------------
def index_page(results: List[CaseResult], links: Dict[str, str], not_run: List[str], seconds: float,
               interrupted: Optional[str] = None) -> str:
    passed = sum(1 for r in results if r.status == PASSED)
    failed = len(results) - passed
    head = [f"<h1>bpfcheck corpus report</h1>",
            f'<p class="summary"><span>{len(results)} cases run</span><span>{badge(PASSED)} {passed}</span>'
            f"<span>{badge(FAILED)} {failed}</span>"
            + (f"<span>{badge('skipped')} {len(not_run)} not run</span>" if not_run else "")
            + f'<span class="muted">{seconds:.1f} s, {esc(time.strftime("%Y-%m-%d %H:%M:%S"))}</span></p>']
    if interrupted:
        head.append(f'<p class="note">The run was interrupted ({esc(interrupted)}): only the cases listed ran.</p>')
    head += _by_directory(results)
    rows = ["<table><tr><th>status</th><th>case</th><th>target</th><th>program</th><th>checks</th>"
            "<th>edge coverage</th><th>verdicts</th></tr>"]
    order = sorted(results, key=lambda r: (r.status == PASSED, r.path))
    for r in order:
        counts = r.counts()
        checks = f"{counts.get(PASSED, 0)}/{len(r.checks)}"
        cov = r.report.coverage if r.report and r.report.coverage else None
        verdicts = r.report.verdicts if r.report and r.report.verdicts else ""
        rows.append(f"<tr><td>{badge(r.status)}</td><td><a href=\"{esc(links[r.path])}\">{esc(r.name)}</a>"
                    f'<br><span class="muted mono">{esc(r.path)}</span></td><td>{esc(r.target)}</td>'
                    f'<td class="mono">{esc(r.source)}</td><td>{esc(checks)}</td>'
                    f"<td>{bar(cov['edges']['percent'] if cov else None)}</td><td class=\"mono\">{esc(verdicts)}</td></tr>")
    for path in not_run:
        rows.append(f"<tr><td>{badge('skipped')}</td><td class=\"mono\">{esc(path)}</td><td colspan=\"5\">"
                    "not run (interrupted)</td></tr>")
    rows.append("</table>")
    return page("bpfcheck corpus report", "\n".join(head + rows))


def _by_directory(results: List[CaseResult]) -> List[str]:
    groups: Dict[str, List[CaseResult]] = {}
    for r in results:
        groups.setdefault(r.path.split("/")[0] if "/" in r.path else ".", []).append(r)
    if len(groups) < 2:
        return []
    rows = ["<table><tr><th>directory</th><th>cases</th><th>passed</th><th>mean edge coverage</th></tr>"]
    for name, group in sorted(groups.items()):
        covs = [r.report.coverage["edges"]["percent"] for r in group if r.report and r.report.coverage]
        mean = sum(covs) / len(covs) if covs else None
        rows.append(f"<tr><td class=\"mono\">{esc(name)}/</td><td>{len(group)}</td>"
                    f"<td>{sum(1 for r in group if r.status == PASSED)}</td><td>{bar(mean)}</td></tr>")
    rows.append("</table>")
    return rows


# --- a case ----------------------------------------------------------------------------------
def case_page(r: CaseResult, downloads: Dict[str, str], index_href: str = "../index.html") -> str:
    """``downloads`` maps an evidence name (and "inputs") to a relative file name."""
    body = [f'<p><a href="{esc(index_href)}">&larr; all cases</a></p>',
            f"<h1>{esc(r.name)} {badge(r.status)}</h1>",
            f'<p class="mono muted">{esc(r.path)} &middot; target {esc(r.target)} &middot; {r.seconds:.2f} s</p>']
    if r.description:
        body.append(f"<p>{esc(r.description)}</p>")
    body.append(f'<p>Program: <span class="mono">{esc(r.source)}</span></p>')
    if r.failures:
        body.append("<h2>Failures</h2><pre>" + esc(r.explain()) + "</pre>")
    body += _notes(r.notes)
    data = r.report
    if data is not None:
        body += _graph(r, data)
        body += _facts(data)
    body += _checks_table("Inputs and expected verdicts", [c for c in r.checks if c.kind in ("packet", "pcap", "syscall")],
                          downloads)
    if "inputs" in downloads:
        body.append(f'<p>All inputs as a capture: <a href="{esc(downloads["inputs"])}" download>'
                    f'{esc(downloads["inputs"])}</a></p>')
    body += _checks_table("Proofs", [c for c in r.checks if c.kind in ("property", "equivalence")], downloads)
    body += _checks_table("Validity", [c for c in r.checks if c.kind in ("validate", "load")], downloads)
    if r.provenance:
        body.append("<h2>Provenance</h2><table>" + "".join(
            f"<tr><th>{esc(k)}</th><td>{_provenance_value(v)}</td></tr>" for k, v in r.provenance.items())
            + "</table>")
    return page(f"{r.name} - bpfcheck", "\n".join(body))


def _provenance_value(v) -> str:
    text = ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
    if isinstance(v, str) and (v.startswith("https://") or v.startswith("http://")):
        return f'<a href="{esc(v)}">{esc(v)}</a>'
    return esc(text)


def _notes(notes: List[str]) -> List[str]:
    return [f'<p class="note">{esc(n)}</p>' for n in notes]


def _graph(r: CaseResult, data) -> List[str]:
    out = ["<h2>Control-flow graph and coverage</h2>"]
    cov = data.coverage
    if cov:
        e, i = cov["edges"], cov["instructions"]
        dead = ", ".join(f"{a}&rarr;{b}" for a, b in e["dead"]) or "none"
        out.append(f"<p>Edges: {e['covered']} of {e['reachable']} reachable covered {bar(e['percent'])}"
                   f" &middot; instructions: {i['covered']} of {i['reachable']} {bar(i['percent'])}"
                   f" &middot; dead edges: {dead}"
                   + (f" &middot; unsettled: {len(e['unknown'])}" if e["unknown"] else "") + "</p>")
    out += [f'<p class="note">{esc(p)}</p>' for p in data.problems]
    if len(data.listing) > MAX_DRAWN:
        out.append(f"<p>{len(data.listing)} instructions: too many to draw; the listing follows.</p>")
        out.append("<pre>" + esc("\n".join(data.listing)) + "</pre>")
        return out
    out.append(legend_svg())
    out.append('<div class="graph">' + cfg_svg(data.listing, data.edges, data.pc_hits, data.pc_status,
                                                data.edge_hits, data.edge_status,
                                                f"control-flow graph of {r.name}") + "</div>")
    return out


def _facts(data) -> List[str]:
    out = ["<h2>Proved for every input</h2><table>"]
    verdicts = esc(data.verdicts) if data.verdicts else '<span class="muted">not computed</span>'
    if data.verdicts and not data.verdicts_exact:
        verdicts += ' <span class="note">(bounds only: the solver did not settle it)</span>'
    out.append(f"<tr><th>verdict set</th><td class=\"mono\">{verdicts}</td></tr>")
    dead = [pc for pc, s in sorted(data.pc_status.items()) if s == "dead"]
    out.append(f"<tr><th>dead instructions</th><td>{esc(', '.join(map(str, dead)) or 'none')}</td></tr>")
    if data.findings:
        items = "".join(f"<li><b>{esc(kind)}</b> {esc(message)}</li>" for kind, _, message in data.findings)
        out.append(f"<tr><th>findings</th><td><ul>{items}</ul></td></tr>")
    else:
        out.append("<tr><th>findings</th><td>none</td></tr>")
    out.append("</table>")
    return out


def _checks_table(title: str, checks: List[Check], downloads: Dict[str, str]) -> List[str]:
    if not checks:
        return []
    oracles: List[str] = []
    for c in checks:
        for k in c.got:
            if k not in oracles:
                oracles.append(k)
    out = [f"<h2>{esc(title)}</h2>", "<table><tr><th>status</th><th>where</th><th>what</th><th>expected</th>"
           + "".join(f"<th>{esc(o)}</th>" for o in oracles) + "<th>input / witness</th></tr>"]
    for c in checks:
        cells = []
        for o in oracles:
            value = c.got.get(o)
            wrong = value is not None and value != c.expected and c.kind != "load"
            cells.append(f"<td class=\"mono{' failed' if wrong else ''}\">{esc(value) if value is not None else '&ndash;'}</td>")
        evidence = ""
        if c.evidence is not None:
            evidence = f'<span class="mono">{esc(_short(c.evidence.text))}</span>'
            link = downloads.get(c.evidence.name)
            if link:
                evidence += f' <a href="{esc(link)}" download>{esc(link.rsplit("/", 1)[-1])}</a>'
        notes = "".join(f'<br><span class="note">{esc(n)}</span>' for n in c.notes)
        out.append(f"<tr><td>{badge(c.status)}</td><td class=\"mono\">{esc(c.where)}</td><td>{esc(c.label)}</td>"
                   f"<td class=\"mono\">{esc(c.expected)}</td>{''.join(cells)}<td class=\"evidence\">{evidence}{notes}</td></tr>")
    out.append("</table>")
    return out


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"

