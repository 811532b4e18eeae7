"""``seccomp diff``: every system call and argument condition whose action
changed between two policies, each with a witness replayed on both.

For one architecture: a VM run of both policies per system call (all
arguments 0) finds the calls whose verdict does not depend on arguments
in either policy; for the others the paths of both policies are combined
(:func:`paths.product`) and grouped by the pair of verdicts.  Every pair
that differs is summarised like an ``explain`` case and proved to select
exactly "old returns vo and new returns vn".  Completeness is a solver
loop: "old and new differ on a call not reported yet" is asked until it
is unsat, so a change nobody looked for (a number outside the table, an
argument the VM run did not touch) still shows up.
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
from .explain import example_of, known_arches
from .paths import TooManyPaths, product, walk
from .policy import Policy, PolicySolver, abi_words, combine
from .verdicts import lowest_example
from ..proof.outcome import Witness

X32_BIT = sc.X32_SYSCALL_BIT


@dataclass
class Change:
    """Inputs on which the old policy returns ``old`` and the new ``new``."""

    label: str                   # syscall name, or a class of inputs
    nr: Optional[int]
    old: int
    new: int
    condition: str
    witness: Optional[Witness]
    proved: bool = True
    summary: Optional[Summary] = field(default=None, repr=False)    # when from walked paths

    def to_json(self) -> dict:
        return {"syscall": self.label, "nr": self.nr, "old": self.old, "new": self.new,
                "old_action": actions.describe(self.old), "new_action": actions.describe(self.new),
                "condition": self.condition, "proved": self.proved,
                "witness": self.witness.to_json() if self.witness else None}


@dataclass
class PolicyDiff:
    arch: str
    audit_arch: int
    changes: List[Change] = field(default_factory=list)
    unproved: List[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def same(self) -> bool:
        return not self.changes

    def to_json(self) -> dict:
        return {"status": "same" if self.same else "different", "arch": self.arch,
                "audit_arch": self.audit_arch, "changes": [c.to_json() for c in self.changes],
                "differences": len(self.changes), "proved": not self.unproved,
                "unproved": self.unproved, "seconds": round(self.seconds, 3)}


def diff(old: Policy, new: Policy, arch: str = "x86_64", timeout: Optional[float] = None) -> PolicyDiff:
    started = time.monotonic()
    arch = sc.arch_name(arch)
    audit = sc.ARCHITECTURES[arch]
    table = sc.table(arch)
    ps = PolicySolver(timeout)
    ps.add("old", old)
    ps.add("new", new)
    ps.assume_abi(audit)
    result = PolicyDiff(arch, audit)

    # 1. The calls the VM already answers, and the ones to walk.
    walk_nrs = []
    for nr in table:
        data = SeccompData(nr, audit)
        if not old.reads_arguments(data) and not new.reads_arguments(data):
            vo, vn = old.run(data), new.run(data)
            if vo != vn:
                result.changes.append(Change(table[nr], nr, vo, vn, "always", ps.witness(data)))
        else:
            walk_nrs.append(nr)
    for nr in walk_nrs:
        result.changes.extend(call_changes(ps, table[nr], nr, audit))

    # 2. Prove the list complete, finding what the runs could not see.
    _complete(ps, result, arch, audit, table)
    _prove_changes(ps, result, audit)
    result.changes.sort(key=lambda c: (c.nr is None, c.nr if c.nr is not None else 0))
    result.seconds = time.monotonic() - started
    return result


def call_changes(ps: PolicySolver, syscall: str, nr: int, audit: int) -> List[Change]:
    old, new = ps.policies["old"], ps.policies["new"]
    fixed = {0: nr, 4: audit, **abi_words(audit)}
    try:
        lists = [walk(f, fixed) for f in old.filters] + [walk(f, fixed) for f in new.filters]
        combos = product(lists)
    except TooManyPaths as e:
        return _unsummarised(ps, syscall, nr, audit, str(e))
    pairs: Dict[Tuple[int, int], List[tuple]] = {}
    k = len(old.filters)
    for combo in combos:
        if not all(isinstance(p.verdict, int) for p in combo):
            return _unsummarised(ps, syscall, nr, audit, "a filter returns a computed value (ret a)")
        vo = combine([p.verdict for p in combo[:k]])
        vn = combine([p.verdict for p in combo[k:]])
        if vo != vn:
            pairs.setdefault((vo, vn), []).append(tuple(a for p in combo for a in p.atoms))
    changes = []
    both = _Both(old, new)
    for (vo, vn), atom_lists in sorted(pairs.items()):
        summary = summarise(atom_lists, abi_words(audit))
        any_args = all(not a for a in atom_lists)
        example = example_of(both, atom_lists, fixed, (vo, vn))
        changes.append(Change(syscall, nr, vo, vn, "always" if any_args else summary.text(),
                              ps.witness(example, ["old", "new"]) if example else None, summary=summary))
    return changes


class _Both:
    """Runs old and new as one policy whose "verdict" is the pair (for
    :func:`example_of`)."""

    def __init__(self, old: Policy, new: Policy):
        self.old, self.new = old, new

    def run(self, data):
        return (self.old.run(data), self.new.run(data))

    def differs(self, data) -> bool:
        vo, vn = self.run(data)
        return vo != vn


def _unsummarised(ps, syscall, nr, audit, why) -> List[Change]:
    o, n = ps.verdicts["old"], ps.verdicts["new"]
    status, data, _ = ps.find(z3.And(ps.inputs.nr == nr, ps.inputs.arch == audit, o != n),
                              lambda d: ps.policies["old"].run(d) != ps.policies["new"].run(d))
    if data is None:
        return []
    w = ps.witness(data, ["old", "new"])
    return [Change(syscall, nr, w.verdicts["old"], w.verdicts["new"],
                   f"for some arguments (conditions not summarised: {why})", w)]


def _complete(ps: PolicySolver, result: PolicyDiff, arch: str, audit: int, table) -> None:
    """Ask for differences outside what is listed until there are none."""
    nr, arch_var = ps.inputs.nr, ps.inputs.arch
    o, n = ps.verdicts["old"], ps.verdicts["new"]
    listed = {c.nr for c in result.changes if c.nr is not None}
    in_table = z3.Or(*[nr == k for k in table])
    gaps = [k for k in range(4096) if k not in table]
    classes = [("numbers not in the table", z3.Not(in_table), gaps,
                lambda d: d.arch == audit and d.nr not in table)]
    if arch == "x86_64":
        x32 = [k | X32_BIT for k in range(1024) if k | X32_BIT not in table]
        classes = [("x32 numbers (nr | 0x40000000)", z3.And(z3.Not(in_table), (nr & X32_BIT) != 0), x32,
                    lambda d: d.arch == audit and d.nr & X32_BIT and d.nr not in table),
                   ("other numbers not in the table", z3.And(z3.Not(in_table), (nr & X32_BIT) == 0), gaps,
                    lambda d: d.arch == audit and not d.nr & X32_BIT and d.nr not in table)]
    # Calls of the table that the runs and walks missed (should be none).
    while True:
        solver = ps.fresh_solver()
        solver.add(arch_var == audit, o != n, in_table, *[nr != k for k in listed])
        if solver.check() != z3.sat:
            break
        k = solver.model().eval(nr, model_completion=True).as_long()
        listed.add(k)
        result.changes.extend(call_changes(ps, table[k], k, audit) or
                              _unsummarised(ps, table[k], k, audit, "missed by the first runs"))
    for label, cond, nicer, accept in classes:
        hint = "diff with --arch x32" if label.startswith("x32") else None
        _class_changes(ps, result, label, [arch_var == audit, cond], nicer, accept, hint)
    known = known_arches()
    for value, name in known.items():
        if value != audit:
            _class_changes(ps, result, f"architecture {name} ({value:#x})", [arch_var == value], range(512),
                           lambda d, v=value: d.arch == v, hint=f"diff with --arch {name}")
    _class_changes(ps, result, "any other arch value", [z3.And(*[arch_var != v for v in known])],
                   range(512), lambda d: d.arch not in known)


#: verdict pairs listed per class of inputs (unknown numbers, another arch)
CLASS_PAIRS = 8


def _class_changes(ps, result, label, assumptions, nicer, accept, hint=None) -> None:
    """Every pair of verdicts that changes on a class of inputs, in the
    kernel's order of precedence, each with the example of the lowest
    number in ``nicer`` (and zero arguments where they do not matter):
    the same policies always read the same, whatever model z3 finds first."""
    o, n = ps.verdicts["old"], ps.verdicts["new"]
    both = _Both(ps.policies["old"], ps.policies["new"])
    found: Dict[Tuple[int, int], SeccompData] = {}
    with ps.assuming(*assumptions):
        while len(found) < CLASS_PAIRS:
            others = [z3.Not(z3.And(o == a, n == b)) for a, b in found]
            status, data, _ = ps.find(z3.And(o != n, *others),
                                      lambda d: accept(d) and both.differs(d) and both.run(d) not in found)
            if data is None:
                break
            pair = both.run(data)
            found[pair] = lowest_example(data, pair, both, accept, nicer)
    text = "for some inputs" + (f" ({hint})" if hint else "")
    for (vo, vn), data in sorted(found.items(), key=lambda item: (_precedence(item[0][0]),
                                                                  _precedence(item[0][1]))):
        result.changes.append(Change(label, None, vo, vn, text, ps.witness(data, ["old", "new"])))


def _precedence(verdict: int) -> tuple:
    return actions.signed_action(verdict), verdict


def _prove_changes(ps: PolicySolver, result: PolicyDiff, audit: int) -> None:
    """Each summarised change selects exactly its pair of verdicts, and
    the pairs of a call are all the differences it has: one query."""
    nr = ps.inputs.nr
    o, n = ps.verdicts["old"], ps.verdicts["new"]
    values = InputValues(ps.inputs)
    by_nr: Dict[int, List[Change]] = {}
    for c in result.changes:
        if c.nr is not None and c.summary is not None:
            by_nr.setdefault(c.nr, []).append(c)
    single = [c for c in result.changes if c.nr is not None and c.summary is None
              and c.condition == "always"]

    def wrong(nr_value, changes, exact):
        parts = []
        for c in changes:
            f = exact_z3(c.summary, values) if exact else summary_z3(c.summary, values)
            parts.append(z3.Xor(f, z3.And(o == c.old, n == c.new)))
        parts.append(z3.And(o != n, *[z3.Not(z3.And(o == c.old, n == c.new)) for c in changes]))
        return z3.And(nr == nr_value, z3.Or(*parts))

    claims = {k: wrong(k, cs, False) for k, cs in by_nr.items()}
    claims.update({c.nr: z3.And(nr == c.nr, z3.Or(o != c.old, n != c.new)) for c in single})
    retried = set()
    while claims:
        solver = ps.fresh_solver()
        solver.add(ps.inputs.arch == audit, z3.Or(*claims.values()))
        answer = solver.check()
        if answer == z3.unsat:
            return
        if answer != z3.sat:
            result.unproved.append(f"the solver could not decide ({solver.reason_unknown()})")
            return
        k = solver.model().eval(nr, model_completion=True).as_long()
        if k in by_nr and k not in retried:
            retried.add(k)
            claims[k] = wrong(k, by_nr[k], True)
            for c in by_nr[k]:
                c.condition = " or ".join("(" + " and ".join(map(str, a)) + ")" for a in c.summary.atoms)
            continue
        del claims[k]
        for c in result.changes:
            if c.nr == k:
                c.proved = False
                result.unproved.append(f"{c.label}: {actions.describe(c.old)} -> "
                                       f"{actions.describe(c.new)} if {c.condition}")


def diff_text(d: PolicyDiff, old_name: str = "OLD", new_name: str = "NEW") -> str:
    lines = []
    state = "proved" if not d.unproved else f"{len(d.unproved)} NOT proved"
    count = len(d.changes)
    lines.append(f"architecture {d.arch} (AUDIT_ARCH {d.audit_arch:#x}): "
                 f"{count} change{'s' * (count != 1)} from {old_name} to {new_name}; {state} "
                 f"({d.seconds:.2f} s)")
    for c in d.changes:
        where = f"{c.label} (nr {c.nr})" if c.nr is not None else c.label
        mark = "" if c.proved else "  [not proved]"
        when = "" if c.condition == "always" else \
            f"  {c.condition}" if c.condition.startswith("for ") else f"  if {c.condition}"
        lines.append(f"    {where}: {actions.describe(c.old)} -> {actions.describe(c.new)}{when}{mark}")
        if c.witness is not None:
            lines.append(f"        e.g. {sc.describe_seccomp(c.witness.seccomp)}")
    for why in d.unproved:
        lines.append(f"NOT PROVED: {why}")
    return "\n".join(lines)
