"""A campaign's counters: plain numbers and sets that add up across
workers and across resumed runs (sent between processes as dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Set

from ..semantics import KERNEL_OPCODES
from ..strategies.invalid import SECCOMP_REFUSED

#: opcodes each target's generated programs can contain (the coverage denominator)
POSSIBLE_OPCODES = {"socket": len(KERNEL_OPCODES), "pcap": len(KERNEL_OPCODES),
                    "seccomp": len(KERNEL_OPCODES - set(SECCOMP_REFUSED))}


@dataclass
class Stats:
    cases: int = 0                     # programs checked
    comparisons: int = 0               # program x input verdict comparisons, every pair of sides
    by_side: Dict[str, int] = field(default_factory=dict)    # kernel, libpcap, reference VM, batch
    validations: int = 0               # programs judged by both validators
    skipped: int = 0                   # inputs whose kernel verdict depends on SKF_AD_RANDOM
    disagreements: int = 0             # (program, pair of sides) that disagreed
    duplicates: int = 0                # of those, more of a bug already written down
    errors: int = 0                    # cases whose checking raised (a bug in bpfcheck)
    opcodes: Set[str] = field(default_factory=set)          # "socket:0x28" executed
    edges_programs: int = 0            # programs traced in full, the solver asked about every edge
    edges_total: int = 0               # their edges, less those the solver proved dead ...
    edges_random: int = 0              # ... taken by the varied inputs
    edges_solver: int = 0              # ... taken once the solver's inputs were added
    solver_seconds: float = 0.0
    solver_inputs: int = 0

    def count(self, side: str, n: int) -> None:
        self.comparisons += n
        self.by_side[side] = self.by_side.get(side, 0) + n

    def merge(self, other: "Stats") -> None:
        for name in ("cases", "comparisons", "validations", "skipped", "disagreements", "duplicates",
                     "errors", "edges_programs", "edges_total", "edges_random", "edges_solver", "solver_seconds",
                     "solver_inputs"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for side, n in other.by_side.items():
            self.by_side[side] = self.by_side.get(side, 0) + n
        self.opcodes |= other.opcodes

    def to_dict(self) -> dict:
        return {"cases": self.cases, "comparisons": self.comparisons, "by_side": dict(self.by_side),
                "validations": self.validations, "skipped": self.skipped,
                "disagreements": self.disagreements, "duplicates": self.duplicates, "errors": self.errors,
                "opcodes": sorted(self.opcodes), "edges_programs": self.edges_programs,
                "edges_total": self.edges_total,
                "edges_random": self.edges_random, "edges_solver": self.edges_solver,
                "solver_seconds": round(self.solver_seconds, 3), "solver_inputs": self.solver_inputs}

    @classmethod
    def from_dict(cls, d: dict) -> "Stats":
        s = cls()
        for name in ("cases", "comparisons", "validations", "skipped", "disagreements", "duplicates",
                     "errors", "edges_programs", "edges_total", "edges_random", "edges_solver", "solver_inputs"):
            value = d.get(name, 0)
            setattr(s, name, value if isinstance(value, int) and value >= 0 else 0)
        seconds = d.get("solver_seconds", 0.0)
        s.solver_seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
        sides = d.get("by_side", {})
        if isinstance(sides, dict):
            s.by_side = {str(k): v for k, v in sides.items() if isinstance(v, int)}
        opcodes = d.get("opcodes", [])
        if isinstance(opcodes, list):
            s.opcodes = {str(o) for o in opcodes}
        return s

    def opcode_coverage(self) -> Dict[str, str]:
        """Per target: distinct opcodes executed / opcodes its programs can hold."""
        seen: Dict[str, int] = {}
        for item in self.opcodes:
            target = item.split(":", 1)[0]
            seen[target] = seen.get(target, 0) + 1
        return {t: f"{seen.get(t, 0)}/{POSSIBLE_OPCODES[t]}" for t in POSSIBLE_OPCODES if t in seen}

    def edge_coverage(self) -> Dict[str, float]:
        if not self.edges_total:
            return {}
        return {"random": round(100.0 * self.edges_random / self.edges_total, 1),
                "with_solver": round(100.0 * self.edges_solver / self.edges_total, 1),
                "programs": self.edges_programs}
