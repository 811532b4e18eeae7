"""Laying out a program's control-flow graph: basic blocks in layers.

Classic BPF only jumps forward (libpcap's rare backward ``ja`` aside), so
the graph is a DAG and a layered drawing reads top to bottom like the
listing.  The steps are the classic ones (Sugiyama), kept simple:

1. basic blocks: a block starts at pc 0, at every jump target and after
   every jump or ``ret``;
2. layers: each block goes one layer below its deepest predecessor
   (longest path), so every edge points down;
3. an edge spanning several layers gets a waypoint in each layer it
   crosses, which takes part in the ordering like a thin block, so long
   edges run between boxes rather than through them;
4. order within layers: a few up/down sweeps placing each node at the
   average position of its neighbours (fewer crossings);
5. coordinates: each node as close to the average x of its predecessors
   as the nodes to its left allow.

Back edges (libpcap loops) are left out of the layering and drawn apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

#: geometry, in SVG user units (pixels)
CHAR_W = 7.3
LINE_H = 16.0
PAD = 8.0
LAYER_GAP = 46.0
NODE_GAP = 28.0
WAYPOINT_W = 12.0
MARGIN = 20.0
SWEEPS = 4


@dataclass
class Block:
    index: int
    pcs: List[int]
    width: float = 0.0
    height: float = 0.0
    layer: int = 0
    x: float = 0.0          # left edge
    y: float = 0.0          # top edge

    @property
    def first(self) -> int:
        return self.pcs[0]

    @property
    def last(self) -> int:
        return self.pcs[-1]


@dataclass
class BlockEdge:
    src: int                 # block index
    dst: int
    key: Tuple[int, int]     # (pc, pc) of the CFG edge
    kind: str
    back: bool = False
    points: List[Tuple[float, float]] = field(default_factory=list)


@dataclass
class Layout:
    blocks: List[Block]
    edges: List[BlockEdge]
    width: float
    height: float


def basic_blocks(n: int, edges: Sequence[Tuple[int, int, str]]) -> List[List[int]]:
    leaders = {0}
    sources = {}
    for src, dst, kind in edges:
        sources.setdefault(src, []).append(dst)
    for src, targets in sources.items():
        if len(targets) > 1 or targets[0] != src + 1:
            leaders.update(t for t in targets if 0 <= t < n)
            leaders.add(src + 1)
    for pc in range(n):
        if pc not in sources:           # a ret ends its block
            leaders.add(pc + 1)
    blocks, current = [], []
    for pc in range(n):
        if pc in leaders and current:
            blocks.append(current)
            current = []
        current.append(pc)
    if current:
        blocks.append(current)
    return blocks


def layout(lines: Sequence[str], edges: Sequence[Tuple[int, int, str]]) -> Layout:
    """Positions for every block (one text line per instruction) and a
    polyline for every edge."""
    n = len(lines)
    groups = basic_blocks(n, edges)
    block_of = {}
    blocks = []
    for i, pcs in enumerate(groups):
        width = max(len(lines[pc]) for pc in pcs) * CHAR_W + 2 * PAD
        blocks.append(Block(i, pcs, width, len(pcs) * LINE_H + PAD))
        for pc in pcs:
            block_of[pc] = i
    bedges = []
    for src, dst, kind in edges:
        if dst not in block_of or src not in block_of:
            continue
        a, b = block_of[src], block_of[dst]
        if src != blocks[a].last:
            continue                       # the fall-through inside a block is drawn by the box itself
        bedges.append(BlockEdge(a, b, (src, dst), kind, back=b <= a))
    _assign_layers(blocks, bedges)
    order, waypoints = _order(blocks, bedges)
    width, height = _coordinates(blocks, bedges, order, waypoints)
    return Layout(blocks, bedges, width, height)


def _assign_layers(blocks: List[Block], bedges: List[BlockEdge]) -> None:
    preds: Dict[int, List[int]] = {}
    for e in bedges:
        if not e.back:
            preds.setdefault(e.dst, []).append(e.src)
    for b in blocks:                       # blocks are in pc order: predecessors come first
        b.layer = max((blocks[p].layer + 1 for p in preds.get(b.index, ())), default=0)


# A node of the ordering is ("b", block index) or ("w", edge index, layer).
Node = Tuple


def _order(blocks: List[Block], bedges: List[BlockEdge]):
    depth = max((b.layer for b in blocks), default=0) + 1
    layers: List[List[Node]] = [[] for _ in range(depth)]
    for b in blocks:
        layers[b.layer].append(("b", b.index))
    chains: Dict[int, List[Node]] = {}
    for i, e in enumerate(bedges):
        if e.back:
            continue
        top, bottom = blocks[e.src].layer, blocks[e.dst].layer
        chain = [("b", e.src)]
        for layer in range(top + 1, bottom):
            node = ("w", i, layer)
            layers[layer].append(node)
            chain.append(node)
        chain.append(("b", e.dst))
        chains[i] = chain
    up: Dict[Node, List[Node]] = {}
    down: Dict[Node, List[Node]] = {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    position: Dict[Node, float] = {}
    for layer in layers:
        for i, node in enumerate(layer):
            position[node] = i
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        sequence = layers[1:] if forward else list(reversed(layers[:-1]))
        neighbours = up if forward else down
        for layer in sequence:
            def key(node):
                near = neighbours.get(node, [])
                return (sum(position[m] for m in near) / len(near)) if near else position[node]
            layer.sort(key=lambda node: (key(node), position[node]))
            for i, node in enumerate(layer):
                position[node] = i
    return layers, {"up": up, "chains": chains}


def _coordinates(blocks, bedges, layers, links) -> Tuple[float, float]:
    up, chains = links["up"], links["chains"]
    width_of = {}
    for layer in layers:
        for node in layer:
            width_of[node] = blocks[node[1]].width if node[0] == "b" else WAYPOINT_W
    centre: Dict[Node, float] = {}
    y = MARGIN
    tops = []
    for layer in layers:
        tops.append(y)
        height = max((blocks[n[1]].height for n in layer if n[0] == "b"), default=LINE_H)
        right = MARGIN
        for node in layer:
            preds = [centre[p] for p in up.get(node, []) if p in centre]
            want = sum(preds) / len(preds) - width_of[node] / 2 if preds else right
            left = max(want, right)
            centre[node] = left + width_of[node] / 2
            right = left + width_of[node] + NODE_GAP
        y += height + LAYER_GAP
    shift = MARGIN - min((centre[n] - width_of[n] / 2 for n in centre), default=MARGIN)
    for node in centre:
        centre[node] += shift
    for b in blocks:
        b.x = centre[("b", b.index)] - b.width / 2
        b.y = tops[b.layer]
    total_w = max((centre[n] + width_of[n] / 2 for n in centre), default=0) + MARGIN
    total_h = y - LAYER_GAP + MARGIN
    for i, e in enumerate(bedges):
        src, dst = blocks[e.src], blocks[e.dst]
        start = (src.x + src.width / 2 + _exit_offset(e.kind, src.width), src.y + src.height)
        if e.back:
            side = max(src.x + src.width, dst.x + dst.width) + 24
            e.points = [(src.x + src.width, src.y + src.height / 2), (side, src.y + src.height / 2),
                        (side, dst.y + dst.height / 2), (dst.x + dst.width, dst.y + dst.height / 2)]
            total_w = max(total_w, side + MARGIN)
            continue
        points = [start]
        for node in chains[i][1:-1]:
            layer = node[2]
            points.append((centre[node], tops[layer]))
            points.append((centre[node], tops[layer] + _layer_height(blocks, layers[layer])))
        points.append((dst.x + dst.width / 2, dst.y))
        e.points = points
    return total_w, total_h


def _layer_height(blocks, layer) -> float:
    return max((blocks[n[1]].height for n in layer if n[0] == "b"), default=LINE_H)


def _exit_offset(kind: str, width: float) -> float:
    """True edges leave a box left of centre, false edges right of it."""
    if kind == "true":
        return -min(20.0, width / 4)
    if kind == "false":
        return min(20.0, width / 4)
    return 0.0

