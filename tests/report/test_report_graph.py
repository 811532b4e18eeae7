"""The control-flow graph picture: blocks, layers, colours."""

import re

from bpfcheck import coverage as cov
from bpfcheck.oracles import libpcap
from bpfcheck.report.layout import basic_blocks, layout
from bpfcheck.report.svg import FILL, cfg_svg


def _program():
    return libpcap.compile("tcp port 80")


def test_basic_blocks_split_at_jumps_targets_and_returns():
    p = _program()
    edges = [(e.src, e.dst, e.kind) for e in cov.edges(p)]
    blocks = basic_blocks(len(p), edges)
    assert [pc for b in blocks for pc in b] == list(range(len(p)))
    targets = {d for s, d, _ in edges if d != s + 1}
    for b in blocks:
        assert not (set(b[1:]) & targets)                  # nothing jumps into the middle
        for pc in b[:-1]:
            assert [d for s, d, _ in edges if s == pc] == [pc + 1]


def test_edges_point_down_and_boxes_do_not_overlap():
    p = _program()
    lines = p.format("tcpdump", canonical=True).splitlines()
    lay = layout(lines, [(e.src, e.dst, e.kind) for e in cov.edges(p)])
    for e in lay.edges:
        assert lay.blocks[e.dst].layer > lay.blocks[e.src].layer
        assert e.points[-1][1] > e.points[0][1]
    by_layer = {}
    for b in lay.blocks:
        by_layer.setdefault(b.layer, []).append(b)
    for row in by_layer.values():
        row.sort(key=lambda b: b.x)
        for left, right in zip(row, row[1:]):
            assert left.x + left.width <= right.x
    assert all(0 <= b.x and b.x + b.width <= lay.width for b in lay.blocks)


def test_colours_follow_coverage_and_dead_code():
    p = libpcap.compile("src portrange 1024-65535")         # libpcap leaves a dead edge here
    lines = p.format("tcpdump", canonical=True).splitlines()
    edges = [(e.src, e.dst, e.kind) for e in cov.edges(p)]
    measured = cov.measure(p, "socket", [(bytes(60), None)])
    reach = cov.reachability(p, "socket", seen=measured.edge_keys)
    svg = cfg_svg(lines, edges, measured.pc_hits, reach.pcs, measured.edge_hits, reach.edges)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count(f'fill="{FILL["covered"]}"') == len(measured.pc_hits)
    assert FILL["uncovered"] in svg
    assert re.search(r'class="edge dead"', svg)
    assert svg.count("<text") >= len(p)
