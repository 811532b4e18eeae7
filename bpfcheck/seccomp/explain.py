"""``seccomp explain``: what a policy does with every system call.

For one architecture (``arch`` pinned to its AUDIT_ARCH value):

1. Each system call of the table is run once on the reference VM with
   all arguments 0.  A run that loads no word but ``nr`` and ``arch``
   took the only path those two words allow, so the call's verdict does
   not depend on anything else.  Calls are grouped by that verdict, and
   each group is then *proved* by one solver query ("some call of this
   group, with any arguments and ip, returns another verdict" is unsat).
2. The other calls are walked path by path (:mod:`.paths`) with ``nr``
   and ``arch`` fixed; the paths of each verdict are summarised
   (:mod:`.conditions`) and each summary is proved to select exactly its
   verdict ("summary xor verdict == v" is unsat under the pinned nr and
   arch), and the verdicts listed are proved to be all there are.
3. Numbers outside the table, and the other architectures, are answered
   by enumerating verdicts with blocking, each with a replayed example.

One :class:`PolicySolver` serves every query; pinning nr and arch is a
push/pop around the encoding, so z3 keeps what it learnt between calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import z3

from .. import syscalls as sc
from ..context import SeccompData
from . import actions
from .conditions import InputValues, Summary, exact_z3, summarise, summary_z3
from .paths import Path, TooManyPaths, product, walk
from .policy import Policy, PolicySolver, abi_words, combine
from .verdicts import Possible, minimise, possible_verdicts

X32_BIT = sc.X32_SYSCALL_BIT


@dataclass
class Case:
    """One verdict of one system call, the condition that selects it, and
    an input that shows it."""

    verdict: int
    condition: str                      # "always", or the summary
    example: Optional[SeccompData]
    proved: bool
    values: List[str] = field(default_factory=list)    # which inputs the condition reads
    summary: Optional[Summary] = None

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "action": actions.describe(self.verdict),
                "condition": self.condition, "depends_on": self.values, "proved": self.proved,
                "example": _data_json(self.example)}


@dataclass
class Row:
    """A system call whose verdict depends on its arguments (or ip)."""

    name: str
    nr: int
    cases: List[Case]
    note: Optional[str] = None

    def otherwise(self, default: Optional[int] = None) -> Optional[int]:
        """The case printed as "otherwise": the one with the policy's default
        verdict, else the one with the longest condition."""
        if len(self.cases) < 2 or not all(c.summary for c in self.cases):
            return None
        for i, c in enumerate(self.cases):
            if c.verdict == default:
                return i
        complements = [i for i, c in enumerate(self.cases) if " not in " in c.condition or "!=" in c.condition]
        if len(complements) == 1:
            return complements[0]
        return max(range(len(self.cases)), key=lambda i: (len(self.cases[i].condition), -i))

    def to_json(self) -> dict:
        obj = {"syscall": self.name, "nr": self.nr, "cases": [c.to_json() for c in self.cases]}
        if self.note:
            obj["note"] = self.note
        return obj


@dataclass
class Segment:
    """Inputs outside the table (unknown numbers, other architectures)."""

    label: str
    possible: Possible
    hint: Optional[str] = None

    def to_json(self) -> dict:
        return {"inputs": self.label, "verdicts": [
            {"verdict": v, "action": actions.describe(v), "example": _data_json(e)}
            for v, e in zip(self.possible.verdicts, self.possible.examples)],
            "complete": self.possible.complete, "reason": self.possible.reason, "hint": self.hint}


@dataclass
class Explanation:
    arch: str
    audit_arch: int
    policy: Policy
    groups: Dict[int, List[Tuple[str, int]]]           # verdict -> [(syscall, nr)]
    conditional: List[Row]
    numbers: List[Segment]
    architectures: List[Segment]
    unproved: List[str]
    seconds: float
    source: str = ""

    @property
    def proved(self) -> bool:
        return not self.unproved

    @property
    def default(self) -> Optional[int]:
        """The verdict of the numbers outside the table, when there is one."""
        last = self.numbers[-1].possible if self.numbers else None
        return last.verdicts[0] if last and len(last.verdicts) == 1 else None

    def verdict_for(self, nr: int) -> Optional[int]:
        for v, calls in self.groups.items():
            if any(n == nr for _, n in calls):
                return v
        return None

    def to_json(self) -> dict:
        return {
            "arch": self.arch, "audit_arch": self.audit_arch, "source": self.source,
            "filters": [len(f) for f in self.policy.filters],
            "groups": [{"verdict": v, "action": actions.describe(v), "count": len(calls),
                        "syscalls": [name for name, _ in calls]}
                       for v, calls in sorted(self.groups.items(), key=_group_order)],
            "conditional": [r.to_json() for r in self.conditional],
            "numbers": [s.to_json() for s in self.numbers],
            "architectures": [s.to_json() for s in self.architectures],
            "proved": self.proved, "unproved": self.unproved, "seconds": round(self.seconds, 3)}


def _group_order(item):
    verdict, calls = item
    return (-len(calls), actions.strength(verdict), verdict)


def _data_json(d: Optional[SeccompData]) -> Optional[dict]:
    if d is None:
        return None
    return {"nr": d.nr, "arch": d.arch, "instruction_pointer": d.instruction_pointer,
            "args": list(d.args), "syscall": sc.describe_seccomp(d)}


# --- the algorithm -------------------------------------------------------------------------
def explain(policy: Policy, arch: str = "x86_64", timeout: Optional[float] = None,
            source: str = "") -> Explanation:
    started = time.monotonic()
    arch = sc.arch_name(arch)
    audit = sc.ARCHITECTURES[arch]
    table = sc.table(arch)
    ps = PolicySolver(timeout)
    ps.add("policy", policy)
    ps.assume_abi(audit)

    singles, candidates = first_runs(policy, table, audit)
    rows = [describe_call(ps, "policy", table[nr], nr, audit) for nr in candidates]
    unproved = prove_table(ps, "policy", audit, _by_verdict(singles), rows, table)
    groups: Dict[int, List[Tuple[str, int]]] = {}
    conditional = []
    for row in rows:
        if len(row.cases) == 1 and row.cases[0].proved:
            singles[row.nr] = row.cases[0].verdict      # it loads arguments, but they do not matter
        else:
            conditional.append(row)
    for nr, verdict in singles.items():
        groups.setdefault(verdict, []).append((table[nr], nr))
    for calls in groups.values():
        calls.sort()

    numbers = _numbers(ps, arch, audit, table)
    architectures = _architectures(ps, arch, audit)
    for seg in numbers + architectures:
        if not seg.possible.complete:
            unproved.append(f"{seg.label}: {seg.possible.reason}")
    return Explanation(arch, audit, policy, groups, conditional, numbers, architectures, unproved,
                       time.monotonic() - started, source)


def first_runs(policy: Policy, table: Dict[int, str], audit: int):
    """One VM run per system call: verdicts that cannot depend on the
    arguments, and the calls that need a closer look."""
    singles: Dict[int, int] = {}
    candidates: List[int] = []
    for nr in table:
        data = SeccompData(nr, audit)
        if policy.reads_arguments(data):
            candidates.append(nr)
        else:
            singles[nr] = policy.run(data)
    return singles, candidates



def _by_verdict(singles: Dict[int, int]) -> Dict[int, List[int]]:
    out: Dict[int, List[int]] = {}
    for nr, v in singles.items():
        out.setdefault(v, []).append(nr)
    return out


def prove_table(ps: PolicySolver, name: str, audit: int, groups: Dict[int, List[int]],
                rows: List[Row], table: Dict[int, str]) -> List[str]:
    """Prove every answer at once: one query asks for an input (with
    ``arch`` = ``audit``) on which some answer is wrong — a call of a
    group returning another verdict, or a conditional call whose summary
    of some verdict does not select exactly that verdict, or that returns
    a verdict not listed.  Unsat proves the whole table.  Each model found
    names one wrong answer: a summary is then replaced by its exact paths
    and asked again, anything else is reported as unproved."""
    nr = ps.inputs.nr
    term = ps.verdicts[name]
    values = InputValues(ps.inputs)
    groups = {v: list(nrs) for v, nrs in groups.items()}
    by_nr = {row.nr: row for row in rows if all(c.summary is not None for c in row.cases)}
    exact_tried: set = set()

    def violation(row: Row, exact: bool):
        wrong = [z3.Xor(exact_z3(c.summary, values) if exact else summary_z3(c.summary, values),
                        term == c.verdict) for c in row.cases]
        wrong.append(z3.And(*[term != c.verdict for c in row.cases]))
        return z3.And(nr == row.nr, z3.Or(*wrong))

    claims = {n: violation(row, False) for n, row in by_nr.items()}
    unproved: List[str] = []
    while True:
        parts = [z3.And(z3.Or(*[nr == n for n in nrs]), term != v) for v, nrs in groups.items() if nrs]
        parts += list(claims.values())
        if not parts:
            break
        solver = ps.fresh_solver()
        solver.add(ps.inputs.arch == audit, z3.Or(*parts))
        result = solver.check()
        if result == z3.unsat:
            break
        if result != z3.sat:
            unproved.append(f"the solver could not decide ({solver.reason_unknown()})")
            for row in by_nr.values():
                for c in row.cases:
                    c.proved = False
            break
        n = solver.model().eval(nr, model_completion=True).as_long()
        if n in claims and n not in exact_tried:
            exact_tried.add(n)
            claims[n] = violation(by_nr[n], True)
            for c in by_nr[n].cases:
                c.condition = " or ".join("(" + " and ".join(map(str, a)) + ")" if a else "always"
                                          for a in c.summary.atoms)
            continue
        if n in claims:
            del claims[n]
            for c in by_nr[n].cases:
                c.proved = False
                unproved.append(f"{by_nr[n].name}: {actions.describe(c.verdict)} if {c.condition}")
            continue
        for v, nrs in groups.items():
            if n in nrs:
                nrs.remove(n)
                unproved.append(f"{table.get(n, n)} (nr {n}): not always {actions.describe(v)}")
                break
        else:
            unproved.append(f"nr {n}: an answer the solver refutes")
            break
    return unproved


def call_paths(policy: Policy, nr: int, audit: int) -> List[Tuple[Path, ...]]:
    """The feasible combined paths of every filter for one (nr, arch)."""
    fixed = {0: nr, 4: audit, **abi_words(audit)}
    lists = [walk(f, fixed) for f in policy.filters]
    if len(lists) == 1:
        return [(p,) for p in lists[0]]
    return product(lists)


def describe_call(ps: PolicySolver, name: str, syscall: str, nr: int, audit: int) -> Row:
    """The cases of one system call from its paths: each verdict with the
    summary of its paths and an example (marked proved here; the caller's
    :func:`prove_table` withdraws what it cannot prove)."""
    policy = ps.policies[name]
    try:
        combos = call_paths(policy, nr, audit)
        if any(not isinstance(p.verdict, int) for combo in combos for p in combo):
            raise TooManyPaths("a filter returns a computed value (ret a)")
    except TooManyPaths as e:
        return _fallback_row(ps, name, syscall, nr, audit, str(e))
    by_verdict: Dict[int, List[tuple]] = {}
    for combo in combos:
        verdict = combine([p.verdict for p in combo])
        by_verdict.setdefault(verdict, []).append(tuple(a for p in combo for a in p.atoms))
    cases: List[Case] = []
    for verdict, atom_lists in sorted(by_verdict.items(), key=lambda kv: actions.strength(kv[0])):
        summary = summarise(atom_lists, abi_words(audit))
        text = summary.text() if len(by_verdict) > 1 else "always"
        example = example_of(policy, atom_lists, {0: nr, 4: audit, **abi_words(audit)}, verdict)
        cases.append(Case(verdict, text, example, True, summary.values(), summary))
    return Row(syscall, nr, cases)


def example_of(policy: Policy, atom_lists, fixed: Dict[int, int], verdict: int) -> Optional[SeccompData]:
    """A small input taking one of the paths (a model of its atoms over the
    words), confirmed on the reference VM."""
    from .paths import Z3Words
    for atoms in sorted(atom_lists, key=len):
        zw = Z3Words()
        solver = z3.SolverFor("QF_BV")
        solver.add(*[zw.atom(a) for a in atoms])
        for off, value in fixed.items():
            solver.add(zw.word(off) == value)
        if solver.check() != z3.sat:
            continue
        model = solver.model()
        words = {off: model.eval(var, model_completion=True).as_long() for off, var in zw.vars.items()}
        words.update(fixed)
        data = data_from_words(words)
        if policy.run(data) == verdict:
            return minimise(data, lambda d: policy.run(d) == verdict)
    return None


def data_from_words(words: Dict[int, int]) -> SeccompData:
    def u64(lo_off):
        return words.get(lo_off, 0) | (words.get(lo_off + 4, 0) << 32)
    return SeccompData(words.get(0, 0), words.get(4, 0), u64(8), tuple(u64(16 + 8 * i) for i in range(6)))


def _fallback_row(ps, name, syscall, nr, audit, why) -> Row:
    possible = possible_verdicts(ps, name, [ps.inputs.nr == nr, ps.inputs.arch == audit],
                                 first=SeccompData(nr, audit),
                                 accept=lambda d: d.nr == nr and d.arch == audit)
    cases = [Case(v, "for some arguments", e, possible.complete)
             for v, e in zip(possible.verdicts, possible.examples)]
    return Row(syscall, nr, cases, note=f"conditions not summarised: {why}")


def _numbers(ps: PolicySolver, arch: str, audit: int, table) -> List[Segment]:
    nr = ps.inputs.nr
    outside = z3.And(*[nr != n for n in table])
    gaps = [n for n in range(0, 4096) if n not in table][:256]
    parts = [("numbers not in the table", outside, lambda d: d.nr not in table, gaps, None)]
    if arch == "x86_64":
        x32 = [n | X32_BIT for n in range(0, 1024) if n | X32_BIT not in table]
        parts = [("x32 numbers (nr | 0x40000000)", z3.And(outside, (nr & X32_BIT) != 0),
                  lambda d: d.nr & X32_BIT and d.nr not in table, x32, "explain with --arch x32"),
                 ("other numbers not in the table", z3.And(outside, (nr & X32_BIT) == 0),
                  lambda d: not d.nr & X32_BIT and d.nr not in table, gaps, None)]
    segments = []
    for label, cond, accept, nicer, hint in parts:
        possible = possible_verdicts(ps, "policy", [ps.inputs.arch == audit, cond],
                                     accept=lambda d, a=accept: d.arch == audit and a(d), nicer=nicer)
        segments.append(Segment(label, possible, hint if len(possible.verdicts) > 1 else None))
    return segments


def known_arches() -> Dict[int, str]:
    out: Dict[int, str] = {}
    for name, value in sc.ARCHITECTURES.items():
        out.setdefault(value, name)
    return out


def _architectures(ps: PolicySolver, arch: str, audit: int) -> List[Segment]:
    segments = []
    arch_var = ps.inputs.arch
    known = known_arches()
    for value, name in known.items():
        if value == audit:
            continue
        possible = possible_verdicts(ps, "policy", [arch_var == value], limit=4,
                                     accept=lambda d, v=value: d.arch == v, nicer=range(512))
        hint = f"explain with --arch {name}" if len(possible.verdicts) > 1 else None
        segments.append(Segment(f"{name} ({value:#x})", possible, hint))
    others = z3.And(*[arch_var != v for v in known])
    possible = possible_verdicts(ps, "policy", [others], limit=4,
                                 accept=lambda d: d.arch not in known, nicer=range(512))
    segments.append(Segment("any other arch value", possible))
    return segments
