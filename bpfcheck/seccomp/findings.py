"""What an audit finds, and the state its checks share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .. import syscalls as sc
from ..context import SeccompData
from ..proof.outcome import Witness
from .explain import call_paths, first_runs
from .paths import TooManyPaths
from .policy import Policy, PolicySolver

CHECKS = ("kernel-rejects", "arch-not-checked", "x32-bypass", "half-compared", "sign-extension",
          "default-allow", "dead-rule", "errno-data", "errno-zero", "unknown-action", "property")
#: findings of one check beyond which the rest are only counted
PER_CHECK = 12


@dataclass
class AuditFinding:
    check: str
    message: str
    witness: Optional[Witness] = None
    related: Optional[SeccompData] = None     # the input the witness is compared with
    pc: Optional[int] = None
    filter: Optional[int] = None

    def to_json(self) -> dict:
        obj = {"check": self.check, "message": self.message,
               "witness": self.witness.to_json() if self.witness else None}
        if self.related is not None:
            obj["related"] = {"nr": self.related.nr, "arch": self.related.arch,
                              "instruction_pointer": self.related.instruction_pointer,
                              "args": list(self.related.args),
                              "syscall": sc.describe_seccomp(self.related)}
        if self.pc is not None:
            obj["pc"] = self.pc
        if self.filter is not None:
            obj["filter"] = self.filter
        return obj


@dataclass
class Audit:
    arch: str
    findings: List[AuditFinding] = field(default_factory=list)
    unknown: List[str] = field(default_factory=list)     # checks the solver could not settle
    checks: Tuple[str, ...] = CHECKS
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.findings:
            return "findings"
        return "unknown" if self.unknown else "clean"

    def to_json(self) -> dict:
        return {"status": self.status, "arch": self.arch, "checks": list(self.checks),
                "findings": [f.to_json() for f in self.findings], "unknown": self.unknown,
                "seconds": round(self.seconds, 3)}


@dataclass
class Context:
    """What the checks of one audit share: the solver with the policy
    encoded once, the walked paths, a second copy for two-run questions."""

    ps: PolicySolver
    policy: Policy
    arch: str
    result: Audit
    _calls: Optional[dict] = None
    _copy: Optional[tuple] = None

    @property
    def audit_arch(self) -> int:
        return sc.ARCHITECTURES[self.arch]

    def add(self, finding: AuditFinding) -> bool:
        same = [f for f in self.result.findings if f.check == finding.check]
        if len(same) >= PER_CHECK:
            return False
        self.result.findings.append(finding)
        return True

    def calls(self) -> Dict[int, list]:
        """The chosen architecture's calls whose verdict reads more than nr
        and arch, with their combined paths (walked once, shared)."""
        if self._calls is None:
            table = sc.table(self.arch)
            _, candidates = first_runs(self.policy, table, self.audit_arch)
            self._calls = {}
            for nr in candidates:
                try:
                    self._calls[nr] = call_paths(self.policy, nr, self.audit_arch)
                except TooManyPaths as e:
                    self.result.unknown.append(f"{table[nr]}: {e}")
        return self._calls

    def copy(self):
        """A second run of the policy over fresh inputs (made once, on demand)."""
        if self._copy is None:
            self._copy = self.ps.copy("policy")
        return self._copy
