"""What replaying a case found: plain data that crosses process boundaries.

Every writer (terminal, JSON, JUnit, HTML, the pytest plugin) reads these
objects and nothing else, so a failure is explained the same way
everywhere: where in the case, what was expected, what each
implementation returned, and the input that shows it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters from case files
    (escape sequences included) are shown as ``\\uXXXX``, never sent."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass
class Evidence:
    """A concrete input worth keeping: a witness or a failing packet.
    ``packet`` hex and ``context``/``wirelen`` for packet targets,
    ``seccomp`` (nr, arch, ip, args) for seccomp; ``text`` one line."""

    text: str
    packet: Optional[str] = None
    context: Dict[str, object] = field(default_factory=dict)
    wirelen: Optional[int] = None
    seccomp: Optional[Dict[str, object]] = None
    name: str = "witness"


@dataclass
class Check:
    """One thing a case pins down, and how it came out.

    ``got`` maps each implementation asked ("reference VM", "kernel
    (AF_UNIX)", "libpcap", "solver", "bpfcheck validator") to what it
    returned, as text; ``notes`` say what was skipped and why.
    """

    kind: str                 # validate | packet | pcap | syscall | property | equivalence | load
    where: str                # "packets[3]", "properties[0]", "program"
    label: str
    expected: str
    got: Dict[str, str] = field(default_factory=dict)
    status: str = PASSED
    notes: List[str] = field(default_factory=list)
    evidence: Optional[Evidence] = None
    seconds: float = 0.0

    def explain(self) -> str:
        """``packets[3] (tcp-syn): expected 0x40000, got 0x0 from the
        reference VM; 0x0 from the kernel (AF_UNIX)``, plus the input."""
        head = f"{self.where}" + (f" ({self.label})" if self.label else "")
        if self.status == ERROR:
            lines = [f"{head}: {self.expected}" if not self.got else
                     f"{head}: " + "; ".join(f"{k}: {v}" for k, v in self.got.items())]
        else:
            wrong = {k: v for k, v in self.got.items() if v != self.expected} or self.got
            got = "; ".join(f"{v} from the {k}" if k != "solver" else f"{v}" for k, v in wrong.items())
            lines = [f"{head}: expected {self.expected}, got {got}"]
            agree = [k for k, v in self.got.items() if v == self.expected]
            if agree and len(agree) < len(self.got):
                lines.append(f"    (as expected from the {', '.join(agree)})")
        if self.evidence is not None:
            lines.append(f"    {self.evidence.text}")
        lines += [f"    note: {n}" for n in self.notes if self.status != PASSED]
        return printable("\n".join(lines))


@dataclass
class CaseResult:
    """One case replayed.  ``report`` carries what the HTML report draws
    (filled only when a report was asked for)."""

    path: str
    name: str
    status: str
    target: str = "socket"
    source: str = ""
    description: str = ""
    provenance: Dict[str, object] = field(default_factory=dict)
    checks: List[Check] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0
    report: Optional["ReportData"] = None

    @property
    def failures(self) -> List[Check]:
        return [c for c in self.checks if c.status in (FAILED, ERROR)]

    def counts(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for c in self.checks:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def explain(self) -> str:
        """Every failure of the case, one block each."""
        lines = [f"{self.status.upper()}: {self.name} ({self.path})"]
        for check in self.failures:
            lines += ["  " + line for line in check.explain().splitlines()]
        return printable("\n".join(lines))

    def to_json(self) -> dict:
        return {"name": self.name, "path": self.path, "status": self.status, "target": self.target,
                "seconds": round(self.seconds, 3), "checks": len(self.checks),
                "failures": [failure_json(self, c) for c in self.failures],
                "notes": self.notes}


def failure_json(case: CaseResult, check: Check) -> dict:
    obj = {"case": case.name, "path": case.path, "where": check.where, "label": check.label,
           "kind": check.kind, "expected": check.expected, "got": dict(check.got),
           "explanation": check.explain()}
    if check.evidence is not None:
        obj["witness"] = asdict(check.evidence)
    return obj


@dataclass
class ReportData:
    """What the HTML report shows beyond the checks: the listing, the
    proved facts and the coverage of the case's own inputs."""

    listing: List[str] = field(default_factory=list)          # one line per instruction
    edges: List[Tuple[int, int, str]] = field(default_factory=list)
    pc_hits: Dict[int, int] = field(default_factory=dict)
    edge_hits: Dict[Tuple[int, int], int] = field(default_factory=dict)
    pc_status: Dict[int, str] = field(default_factory=dict)       # reachable | dead | unknown
    edge_status: Dict[Tuple[int, int], str] = field(default_factory=dict)
    verdicts: Optional[str] = None
    verdicts_exact: bool = True
    findings: List[Tuple[str, int, str]] = field(default_factory=list)
    coverage: Optional[dict] = None                                # coverage.Summary.to_json()
    inputs: List[Evidence] = field(default_factory=list)           # the case's packets / syscalls
    problems: List[str] = field(default_factory=list)              # analysis that could not be done
    linktype: str = "EN10MB"
