"""The comparison core shared by ``bpfcheck diff`` and ``bpfcheck fuzz``.

:func:`compare` runs one program on two oracles — *ours* (bpfcheck, under
the rules the user asked for) and *theirs* (a real implementation) — over
the same inputs, each input as that side sees it, and lists every
difference with both outcomes.

A difference is classified with a third opinion, the *model*: bpfcheck's
reference VM under *their* rules, on *their* view of the input.  When the
model gives their answer, bpfcheck already predicted the difference: it
comes from the documented dialects (libpcap has no Linux extensions, shifts
by X >= 32 give 0, refuses wrapped and negative offsets...; an ``AF_UNIX``
datagram has no device, no link-layer header, no metadata) and is a
``"dialect"`` difference, with the rule that caused it named.  Otherwise it
is a ``"disagreement"``: bpfcheck is wrong about the implementation (or
the implementation has a bug).  With no model (a fuzz campaign compares
like with like) every difference is a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

from ..program import Program
from .explain import dialect_rules, validation_reasons
from .oracles import Oracle, ReferenceOracle, random_pcs
from .values import Acceptance, Delivered, Input, Outcome, same, show, to_json

DIALECT, DISAGREEMENT = "dialect", "disagreement"


@dataclass
class Difference:
    """One input (or, for ``index`` None, the program itself) on which the
    two sides differ."""

    index: Optional[int]
    input: Optional[Input]
    ours: Union[Outcome, Acceptance]
    theirs: Union[Outcome, Acceptance]
    kind: str
    reasons: List[str] = field(default_factory=list)
    #: the rules behind ``reasons``, worded whatever the values (``diff`` groups by the first)
    families: List[str] = field(default_factory=list)

    def to_json(self, ours_name: str, theirs_name: str) -> dict:
        if self.index is None:      # the two sides judge the program itself differently
            return {"input": None,
                    "verdicts": {ours_name: str(self.ours), theirs_name: str(self.theirs)},
                    "accepted": {ours_name: self.ours.accepted, theirs_name: self.theirs.accepted},
                    "kind": self.kind, "reasons": self.reasons}
        out = {"input": {"index": self.index, **self.input.to_json()},
               "verdicts": {ours_name: to_json(self.ours), theirs_name: to_json(self.theirs)},
               "kind": self.kind, "reasons": self.reasons}
        if self.families:
            out["rules"] = self.families
        return out

    def describe(self, ours_name: str, theirs_name: str) -> str:
        if self.index is None:
            return f"program: {ours_name} {self.ours}; {theirs_name} {self.theirs}"
        return (f"#{self.index} {self.input.describe()}: {ours_name} {show(self.ours)}, "
                f"{theirs_name} {show(self.theirs)}")


@dataclass
class Comparison:
    program: Program
    ours: str
    theirs: str
    inputs: int = 0
    compared: int = 0
    skipped: int = 0
    both_refuse: bool = False
    differences: List[Difference] = field(default_factory=list)

    @property
    def disagreements(self) -> List[Difference]:
        return [d for d in self.differences if d.kind == DISAGREEMENT]

    @property
    def dialect(self) -> List[Difference]:
        return [d for d in self.differences if d.kind == DIALECT]


def compare(program: Program, inputs: Sequence[Input], ours: Oracle, theirs: Oracle,
            model: Optional[Oracle] = None, explain: bool = True) -> Comparison:
    """Judge and run ``program`` on both sides; see the module docstring.
    ``model`` defaults to the reference VM under their rules; it is only
    consulted when the rules or the input's view differ.  ``explain=False``
    skips naming the dialect rules (a recorded replay per difference)."""
    program = Program(program)
    inputs = list(inputs)
    result = Comparison(program, ours.name, theirs.name, inputs=len(inputs))
    if model is None:
        model = ReferenceOracle(theirs.target)
    ours_ok, theirs_ok = ours.accepts(program), theirs.accepts(program)
    if ours_ok.accepted != theirs_ok.accepted:
        result.differences.append(_validation_difference(program, ours_ok, theirs_ok, model, theirs.name,
                                                         ours.target == theirs.target))
        return result
    if not ours_ok.accepted:
        result.both_refuse = True
        return result
    views = [theirs.view(inp) for inp in inputs]
    mine = ours.run(program, inputs)
    confirm = getattr(theirs, "run_expecting", None)
    # An oracle that can confirm our answers instead of extracting its own
    # does so only where the inputs are the same on both sides.
    if confirm is not None and ours.target == theirs.target and views == inputs:
        real = confirm(program, views, mine)
    else:
        real = theirs.run(program, views)
    random = None
    result.compared = len(inputs)
    for i in [i for i, (o, t) in enumerate(zip(mine, real)) if o != t]:
        inp, view, o, t = inputs[i], views[i], mine[i], real[i]
        if isinstance(t, Delivered):
            random = random_pcs(program) if random is None else random
            if _reaches(program, ours.target, inp, random):
                result.skipped += 1          # the verdict may depend on a value nobody knows
                result.compared -= 1
                continue
        if same(o, t, view.length):
            continue
        result.differences.append(_difference(program, i, inp, view, o, t, ours, theirs, model, explain))
    return result


def _reaches(program: Program, target: str, inp: Input, pcs: set) -> bool:
    trace = ReferenceOracle(target).trace(program, inp)
    return trace is None or bool(pcs & set(trace.path))


def _difference(program, index, inp, view, o, t, ours, theirs, model, explain) -> Difference:
    kind, reasons, families = DISAGREEMENT, [], []
    # Same rules and the same view of the input: nothing could explain a difference.
    if model is not None and (model.target != ours.target or view != inp):
        predicted = model.run(program, [view])[0]
        if same(predicted, t, view.length):
            kind = DIALECT
            if explain:
                rules = dialect_rules(program, inp, ours.target, view, model.target, theirs.name)
                reasons, families = [r.text for r in rules], [r.family for r in rules]
    return Difference(index, inp, o, t, kind, reasons, families)


def _validation_difference(program, ours_ok: Acceptance, theirs_ok: Acceptance, model, their_name,
                           same_rules: bool) -> Difference:
    if model is not None and not same_rules:
        predicted = model.accepts(program)
        if predicted.accepted == theirs_ok.accepted:
            reasons = validation_reasons(ours_ok, theirs_ok, predicted, their_name)
            return Difference(None, None, ours_ok, theirs_ok, DIALECT, reasons)
    return Difference(None, None, ours_ok, theirs_ok, DISAGREEMENT,
                      [ours_ok.detail or theirs_ok.detail] if (ours_ok.detail or theirs_ok.detail) else [])
