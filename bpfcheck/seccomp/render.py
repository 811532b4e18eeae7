"""Text and HTML for explanations (diff and audit print their own few lines).

Everything that came from a policy or a file name is escaped in HTML; the
fragment uses only a few class names, so the report can style it.
"""

from __future__ import annotations

import html
import textwrap
from typing import List

from . import actions
from .explain import Explanation, Row

WIDTH = 100


def _calls_text(calls) -> List[str]:
    names = " ".join(name for name, _ in calls)
    return textwrap.wrap(names, WIDTH - 4, initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False)


def _cases(row: Row, default=None):
    """(action text, condition text, case) in print order, "otherwise" last."""
    other = row.otherwise(default)
    out = [(actions.describe(c.verdict), c.condition, c) for i, c in enumerate(row.cases) if i != other]
    if other is not None:
        c = row.cases[other]
        out.append((actions.describe(c.verdict), "otherwise", c))
    return out


def explanation_text(e: Explanation, examples: bool = False) -> str:
    lines = []
    source = f"{e.source}: " if e.source else ""
    lines.append(f"policy: {source}{e.policy.describe()}")
    total = sum(len(c) for c in e.groups.values()) + len(e.conditional)
    proof = "every answer proved" if e.proved else f"{len(e.unproved)} answers NOT proved"
    lines.append(f"architecture {e.arch} (AUDIT_ARCH {e.audit_arch:#x}): {total} system calls; "
                 f"{proof} ({e.seconds:.2f} s)")
    for verdict, calls in sorted(e.groups.items(), key=lambda kv: (-len(kv[1]), actions.strength(kv[0]))):
        lines.append("")
        lines.append(f"{actions.describe(verdict)}: {len(calls)} system call{'s' * (len(calls) != 1)}")
        lines.extend(_calls_text(calls))
    if e.conditional:
        lines.append("")
        lines.append(f"depending on the arguments: {len(e.conditional)} system call"
                     f"{'s' * (len(e.conditional) != 1)}")
        for row in e.conditional:
            lines.append(f"    {row.name} (nr {row.nr})")
            width = max(len(a) for a, _, _ in _cases(row, e.default))
            for action_text, condition, case in _cases(row, e.default):
                mark = "" if case.proved else "  [not proved]"
                lines.append(f"        {action_text:<{width}}  {condition}{mark}")
                if examples and case.example is not None:
                    lines.append(f"        {'':<{width}}  e.g. {_call(case.example)}")
            if row.note:
                lines.append(f"        ({row.note})")
    lines.append("")
    lines.append("numbers outside the table:")
    for seg in e.numbers:
        lines.append(_segment_line(seg, examples))
    lines.append("other architectures:")
    for seg in e.architectures:
        lines.append(_segment_line(seg, examples))
    for why in e.unproved:
        lines.append(f"NOT PROVED: {why}")
    return "\n".join(lines)


def _segment_line(seg, examples: bool) -> str:
    parts = []
    for v, ex in zip(seg.possible.verdicts, seg.possible.examples):
        text = actions.describe(v)
        if examples:
            text += f" (e.g. {_call(ex)})"
        parts.append(text)
    if not seg.possible.complete:
        parts.append(f"... ({seg.possible.reason})")
    hint = f"  ({seg.hint})" if seg.hint else ""
    return f"    {seg.label}: {', '.join(parts) or 'none'}{hint}"


def _call(d) -> str:
    from ..syscalls import describe_seccomp
    return describe_seccomp(d)


# --- HTML -------------------------------------------------------------------------------
def explanation_table(e: Explanation) -> dict:
    """The explanation as plain data for the HTML report: rows of
    ``(syscalls, action, condition, proved)``."""
    rows = []
    for verdict, calls in sorted(e.groups.items(), key=lambda kv: (-len(kv[1]), actions.strength(kv[0]))):
        rows.append({"syscalls": [n for n, _ in calls], "action": actions.describe(verdict),
                     "verdict": verdict, "condition": "always", "proved": True})
    for row in e.conditional:
        for action_text, condition, case in _cases(row, e.default):
            rows.append({"syscalls": [row.name], "action": action_text, "verdict": case.verdict,
                         "condition": condition, "proved": case.proved})
    for seg in e.numbers + e.architectures:
        for v in seg.possible.verdicts:
            rows.append({"syscalls": [seg.label], "action": actions.describe(v), "verdict": v,
                         "condition": "for some inputs" if len(seg.possible.verdicts) > 1 else "always",
                         "proved": seg.possible.complete})
    return {"title": f"seccomp policy on {e.arch}", "source": e.source, "arch": e.arch,
            "audit_arch": e.audit_arch, "proved": e.proved, "rows": rows}


def explanation_html(e: Explanation) -> str:
    """A self-contained ``<section>`` with the explanation table."""
    data = explanation_table(e)
    esc = html.escape
    out = ['<section class="bpfcheck-seccomp-explain">',
           f"<h3>{esc(data['title'])}{' — ' + esc(data['source']) if data['source'] else ''}</h3>",
           f"<p>AUDIT_ARCH {e.audit_arch:#x}; {esc(e.policy.describe())}; "
           f"{'every answer proved' if e.proved else 'some answers not proved'}</p>",
           "<table>", "<thead><tr><th>system calls</th><th>action</th><th>when</th>"
           "<th>proved</th></tr></thead>", "<tbody>"]
    for row in data["rows"]:
        calls = ", ".join(row["syscalls"])
        out.append(f'<tr class="action-{esc(row["action"].split("(")[0].split(" ")[0].lower())}">'
                   f"<td>{esc(calls)}</td><td>{esc(row['action'])}</td>"
                   f"<td><code>{esc(row['condition'])}</code></td>"
                   f"<td>{'yes' if row['proved'] else 'no'}</td></tr>")
    out += ["</tbody>", "</table>", "</section>"]
    return "\n".join(out)
