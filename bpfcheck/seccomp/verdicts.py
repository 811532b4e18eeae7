"""Questions every seccomp command asks: which verdicts are possible under
some assumptions, each with a concrete, replayed example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import z3

from ..context import SeccompData
from . import actions
from .policy import SAT, UNSAT, PolicySolver

#: distinct verdicts listed before giving up on a set (``ret a`` can return many)
VERDICT_LIMIT = 16


@dataclass
class Possible:
    """The verdicts a policy can return under some assumptions."""

    verdicts: List[int]
    examples: List[SeccompData]
    complete: bool                  # every possible verdict is listed (proved)
    reason: Optional[str] = None    # why not, when not complete


def possible_verdicts(ps: PolicySolver, name: str, assumptions=(), limit: int = VERDICT_LIMIT,
                      first: Optional[SeccompData] = None,
                      accept: Callable[[SeccompData], bool] = lambda d: True,
                      nicer: Sequence[int] = ()) -> Possible:
    """Enumerate the verdicts of policy ``name`` with blocking: ask for a
    verdict not seen yet until the solver says there is none.  ``first``
    is a known input (its verdict is taken without asking); ``accept``
    checks that an example satisfies ``assumptions`` concretely; each
    example is the :func:`lowest_example` among the ``nicer`` numbers."""
    term = ps.verdicts[name]
    policy = ps.policies[name]
    found: List[int] = []
    examples: List[SeccompData] = []
    if first is not None:
        found.append(policy.run(first))
        examples.append(first)
    with ps.assuming(*assumptions):
        while True:
            blocked = z3.And(*[term != v for v in found]) if found else z3.BoolVal(True)
            status, data, note = ps.find(
                blocked, lambda d: accept(d) and policy.run(d) not in found)
            if status == UNSAT:
                return _strongest_first(found, examples, True)
            if status != SAT:
                return _strongest_first(found, examples, False, note or ps.session.last_reason)
            verdict = policy.run(data)
            found.append(verdict)
            examples.append(lowest_example(data, verdict, policy, accept, nicer))
            if len(found) >= limit:
                complete = ps.check(z3.And(*[term != v for v in found]))[0] == UNSAT
                return _strongest_first(found, examples, complete,
                                        None if complete else f"more than {limit} distinct verdicts")


def _strongest_first(found: List[int], examples: List[SeccompData], complete: bool,
                     reason: Optional[str] = None) -> Possible:
    """The verdicts in the kernel's order of precedence, not the order the
    solver happened to find them: the same policy always reads the same."""
    pairs = sorted(zip(found, examples), key=lambda pair: (actions.signed_action(pair[0]), pair[0]))
    return Possible([v for v, _ in pairs], [e for _, e in pairs], complete, reason)


def lowest_example(data: SeccompData, verdict, policy, accept, nicer: Sequence[int]) -> SeccompData:
    """The example of ``verdict`` (``policy.run``'s answer, whatever its
    type) to show instead of the model's ``data``: the lowest number in
    ``nicer`` that passes ``accept`` and gets ``verdict`` with all
    arguments 0, else with the arguments of ``data`` (when it takes some),
    else ``data``; arguments zeroed where they do not matter.  Examples
    then depend on the policy, not on which model z3 found first."""
    def holds(d):
        return accept(d) and policy.run(d) == verdict
    for args in ((0,) * 6, data.args):
        for nr in nicer:
            candidate = SeccompData(nr, data.arch, 0, args)
            if holds(candidate):
                return minimise(candidate, holds)
    return minimise(data, holds)


def minimise(data: SeccompData, holds: Callable[[SeccompData], bool]) -> SeccompData:
    """``data`` with as many arguments (and the ip) zeroed as ``holds``
    allows: examples read best with zeros where nothing matters."""
    if not holds(data):
        return data
    args = list(data.args)
    for i, value in enumerate(args):
        if value:
            args[i] = 0
            candidate = SeccompData(data.nr, data.arch, data.instruction_pointer, tuple(args))
            if holds(candidate):
                data = candidate
            else:
                args[i] = value
    if data.instruction_pointer:
        candidate = SeccompData(data.nr, data.arch, 0, data.args)
        if holds(candidate):
            data = candidate
    return data
