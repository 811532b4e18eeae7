"""The control-flow graph as an SVG picture, coloured by coverage.

Each basic block is a box holding its instructions, one line each, the
line's background saying what happened to that instruction: executed by
the case's inputs, reachable but never executed, proved dead, or not
settled.  Edges are coloured the same way (solid green taken, dashed
orange reachable but not taken, dotted grey dead); true branches leave a
box on the left, false ones on the right.  Every piece of text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Dict, Sequence, Tuple

from .layout import LINE_H, PAD, layout

#: above this many instructions the picture is not drawn (a listing is shown)
MAX_DRAWN = 800

COVERED, UNCOVERED, DEAD, UNKNOWN = "covered", "uncovered", "dead", "unknown"
FILL = {COVERED: "#cdebd0", UNCOVERED: "#ffd8b0", DEAD: "#dcdcdc", UNKNOWN: "#f4f4f4"}
STROKE = {COVERED: "#2e7d32", UNCOVERED: "#e65100", DEAD: "#9e9e9e", UNKNOWN: "#b0b0b0"}
DASH = {COVERED: "", UNCOVERED: "6 4", DEAD: "2 4", UNKNOWN: "1 3"}
LEGEND = ((COVERED, "executed by the case's inputs"), (UNCOVERED, "reachable, never executed"),
          (DEAD, "dead: proved unreachable"), (UNKNOWN, "not settled"))


def pc_state(pc: int, hits: Dict[int, int], status: Dict[int, str]) -> str:
    if hits.get(pc):
        return COVERED
    s = status.get(pc)
    return DEAD if s == "dead" else UNCOVERED if s == "reachable" else UNKNOWN


def edge_state(key, hits, status) -> str:
    if hits.get(key):
        return COVERED
    s = status.get(key)
    return DEAD if s == "dead" else UNCOVERED if s == "reachable" else UNKNOWN


def cfg_svg(lines: Sequence[str], edges: Sequence[Tuple[int, int, str]], pc_hits: Dict[int, int],
            pc_status: Dict[int, str], edge_hits: Dict[Tuple[int, int], int],
            edge_status: Dict[Tuple[int, int], str], title: str = "control-flow graph") -> str:
    """The whole picture as an ``<svg>`` element (inline in HTML)."""
    if not lines:
        return ""
    lay = layout(lines, edges)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cfg" width="{lay.width:.0f}" '
           f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" role="img" '
           f'aria-label="{escape(title, quote=True)}">',
           f"<title>{escape(title)}</title>",
           "<defs>" + "".join(
               f'<marker id="arrow-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
               f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
               f'fill="{STROKE[state]}"/></marker>' for state in STROKE) + "</defs>",
           f'<rect x="0" y="0" width="{lay.width:.0f}" height="{lay.height:.0f}" fill="#ffffff"/>']
    for e in lay.edges:
        state = edge_state(e.key, edge_hits, edge_status)
        dash = f' stroke-dasharray="{DASH[state]}"' if DASH[state] else ""
        out.append(f'<path class="edge {state}" d="{_path(e.points, e.back)}" fill="none" '
                   f'stroke="{STROKE[state]}" stroke-width="{2.2 if state == COVERED else 1.6}"{dash} '
                   f'marker-end="url(#arrow-{state})"><title>{escape(_edge_title(e, state))}</title></path>')
        if e.kind in ("true", "false"):
            x, y = e.points[0]
            out.append(f'<text x="{x + (-9 if e.kind == "true" else 3):.1f}" y="{y + 12:.1f}" '
                       f'class="branch" font-size="10" fill="{STROKE[state]}">{"T" if e.kind == "true" else "F"}</text>')
    for b in lay.blocks:
        states = [pc_state(pc, pc_hits, pc_status) for pc in b.pcs]
        border = STROKE[COVERED if COVERED in states else states[0]]
        out.append(f'<g class="block" id="block-{b.first}">')
        out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" '
                   f'rx="4" fill="#ffffff" stroke="{border}" stroke-width="1.4"/>')
        for row, (pc, state) in enumerate(zip(b.pcs, states)):
            top = b.y + PAD / 2 + row * LINE_H
            out.append(f'<rect class="insn {state}" x="{b.x + 2:.1f}" y="{top:.1f}" width="{b.width - 4:.1f}" '
                       f'height="{LINE_H:.1f}" fill="{FILL[state]}"><title>{escape(_pc_title(pc, state, pc_hits))}'
                       f'</title></rect>')
            decoration = ' text-decoration="line-through"' if state == DEAD else ""
            colour = "#777777" if state == DEAD else "#1a1a1a"
            out.append(f'<text x="{b.x + PAD:.1f}" y="{top + LINE_H - 4:.1f}" font-family="monospace" '
                       f'font-size="12" fill="{colour}"{decoration} xml:space="preserve">'
                       f'{escape(lines[pc])}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _path(points, back: bool) -> str:
    """A smooth path through the points: straight runs between waypoint
    pairs, S-curves between layers."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    if back:
        return " ".join(d + [f"L{x:.1f},{y:.1f}" for x, y in rest])
    x, y = x0, y0
    for nx, ny in rest:
        if abs(nx - x) < 0.5:
            d.append(f"L{nx:.1f},{ny:.1f}")
        else:
            mid = (y + ny) / 2
            d.append(f"C{x:.1f},{mid:.1f} {nx:.1f},{mid:.1f} {nx:.1f},{ny:.1f}")
        x, y = nx, ny
    return " ".join(d)


def _edge_title(e, state: str) -> str:
    src, dst = e.key
    return f"{src} -> {dst} ({e.kind}): {state}"


def _pc_title(pc: int, state: str, hits) -> str:
    if state == COVERED:
        return f"instruction {pc}: executed {hits[pc]} time(s)"
    return f"instruction {pc}: {state}"


def legend_svg() -> str:
    items = []
    for i, (state, text) in enumerate(LEGEND):
        x = 10 + i * 230
        items.append(f'<rect x="{x}" y="6" width="18" height="14" fill="{FILL[state]}" stroke="{STROKE[state]}"/>'
                     f'<line x1="{x + 24}" y1="13" x2="{x + 46}" y2="13" stroke="{STROKE[state]}" stroke-width="2"'
                     + (f' stroke-dasharray="{DASH[state]}"' if DASH[state] else "") + "/>"
                     f'<text x="{x + 52}" y="17" font-size="12" font-family="sans-serif">{escape(text)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="legend" width="{10 + 230 * len(LEGEND)}" '
            f'height="26">' + "".join(items) + "</svg>")


