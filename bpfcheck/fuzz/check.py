"""Checking one case on every side, and the predicates that shrink a finding.

For a case of target T (the rules its program was made for):

* verdicts — bpfcheck's compiled fast path against the kernel (socket and
  pcap programs under socket rules on the ``AF_UNIX`` pair, when the
  kernel's checker takes them; seccomp programs through the socket path)
  and against libpcap (socket and pcap programs under libpcap's rules, some
  inputs as captures cut short).  A difference is re-run on the
  reference VM: if the VM agrees with the real implementation the fast path
  is wrong (a *fast-path* finding), else bpfcheck is (a *verdict* finding);
* validators — the program, a faulty one (``invalid_programs``) and a
  damaged copy, judged by ``validate`` and by the kernel's checker,
  ``seccomp()`` (every fourth case: a fork each) and ``bpf_validate``;
* the reference VM — on a sample of the inputs, against the fast path,
  recording which opcodes ran;
* in full (when asked) — every input traced on the reference VM, its
  verdict held to the fast path's, the edges it took counted; then the
  solver's inputs for the edges left, compared like the others, and the
  numpy batch path against the compiled one.

Comparisons like with like: every difference is unexplained (there is no
dialect between bpfcheck's model of an implementation and the
implementation itself).
"""

from __future__ import annotations

import random
import time
from typing import Callable, List, Optional, Sequence

from ..context import Context
from ..coverage import edges as cfg_edges
from ..coverage import path_edges
from ..differential.compare import compare
from ..differential.oracles import CompiledOracle, KernelOracle, LibpcapOracle, ReferenceOracle
from ..differential.values import Input, same
from ..program import Program
from ..vm import Machine
from .cases import FuzzCase
from .findings import FAST_PATH, VALIDATION, VERDICT, Finding
from .inputs import PacketPool, mutant, vary_packets, vary_syscalls, wire_lengths
from .shrink import Predicate
from .stats import Stats

TARGETS = ("socket", "seccomp", "pcap")


class Checker:
    """The oracles of one worker, and what it does with a case.

    ``machine`` builds the reference VM (a test may hand in a broken one);
    ``fast=False`` compares the reference VM itself with the real
    implementations (slower; what that test needs)."""

    def __init__(self, against: Sequence[str], cpu=None, machine: Callable = Machine, fast: bool = True,
                 inputs: int = 256, vm_sample: int = 16):
        self.kernel = KernelOracle("socket", cpu=cpu) if "kernel" in against else None
        self.kernel_seccomp = KernelOracle("seccomp", share=self.kernel) if self.kernel else None
        self.libpcap = LibpcapOracle() if "pcap" in against else None
        self.reference = {t: ReferenceOracle(t, machine) for t in TARGETS}
        self.fast = {t: CompiledOracle(t) for t in TARGETS} if fast else self.reference
        self.inputs = inputs
        self.vm_sample = vm_sample
        self.pool = PacketPool()

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()

    # --- one case ------------------------------------------------------------------
    def check(self, case: FuzzCase, stats: Stats, full: bool = False,
              solver_budget: float = 0.0) -> List[Finding]:
        rnd = random.Random(case.seed)
        program, target = case.program, case.target
        found: List[Finding] = []
        comparisons = self._inputs(case, rnd)
        for rules, oracle, inputs in comparisons:
            self._verdicts(rules, program, inputs, oracle, stats, found)
        self._validators(case, rnd, stats, found)
        # bpfcheck's own paths, under the rules the program was made for
        # first (a pcap program may be one the kernel's checker refuses)
        runnable = sorted((c for c in comparisons if self.reference[c[0]].accepts(program).accepted),
                          key=lambda c: c[0] != target)
        if runnable:
            rules, _, inputs = runnable[0]
            self._reference_sample(rules, program, inputs, stats, found)
            if full:
                self._in_full(runnable, program, stats, found, solver_budget)
        stats.cases += 1
        return found

    def _inputs(self, case: FuzzCase, rnd: random.Random):
        """(rules, oracle, inputs as that oracle sees them) per comparison."""
        out = []
        if case.target == "seccomp":
            if self.kernel_seccomp is not None:
                data = vary_syscalls(case.program, case.syscalls, rnd, self.inputs)
                out.append(("seccomp", self.kernel_seccomp, [Input(d) for d in data]))
            return out
        self.pool.add(case.packets)
        packets = vary_packets(case.program, case.packets, self.pool, rnd, self.inputs)
        if self.kernel is not None:
            # pcap programs are socket programs too (the kernel's checker
            # decides): under socket rules they meet the kernel as well
            ctx = self.kernel.context
            out.append(("socket", self.kernel, [Input(p, ctx) for p in packets]))
        if self.libpcap is not None:
            wires = wire_lengths(packets, rnd)
            out.append(("pcap", self.libpcap,
                        [Input(p, Context(len=w) if w != len(p) else None) for p, w in zip(packets, wires)]))
        return out

    # --- verdicts ------------------------------------------------------------------
    def _verdicts(self, rules: str, program: Program, inputs: List[Input], oracle, stats: Stats,
                  found: List[Finding]) -> None:
        comparison = compare(program, inputs, self.fast[rules], oracle, explain=False)
        stats.count(oracle.name, comparison.compared)
        stats.skipped += comparison.skipped
        if comparison.inputs and not comparison.differences and not comparison.both_refuse:
            stats.validations += 1
        kinds = set()
        for d in comparison.differences:
            if d.index is None:
                stats.validations += 1
                found.append(Finding(VALIDATION, rules, oracle.name, program, None, d.ours, d.theirs))
                kinds.add(VALIDATION)
                break
            inp = inputs[d.index]
            reference = self.reference[rules].run(program, [inp])[0]
            if self.fast is not self.reference and same(reference, d.theirs, inp.length):
                kind, finding = FAST_PATH, Finding(FAST_PATH, rules, "compiled", program, inp, d.ours, reference)
            else:
                kind, finding = VERDICT, Finding(VERDICT, rules, oracle.name, program, inp, reference, d.theirs)
            if kind not in kinds:        # one finding per kind per program: the rest are the same bug
                kinds.add(kind)
                found.append(finding)
        stats.disagreements += len(kinds)

    # --- validators ------------------------------------------------------------------
    def _validation(self, rules: str, program: Program, oracle, stats: Stats, found: List[Finding]) -> None:
        comparison = compare(program, [], self.reference[rules], oracle, explain=False)
        stats.validations += 1
        for d in comparison.differences:
            found.append(Finding(VALIDATION, rules, oracle.name, program, None, d.ours, d.theirs))
            stats.disagreements += 1

    def _validators(self, case: FuzzCase, rnd: random.Random, stats: Stats, found: List[Finding]) -> None:
        damaged = mutant(case.program, rnd)
        faulty = [case.invalid.program] if case.invalid is not None else []
        for program in faulty + [damaged]:
            if self.kernel is not None:
                self._validation("socket", program, self.kernel, stats, found)
                if case.target == "seccomp" and case.index % 4 == 0:
                    self._validation("seccomp", program, self.kernel_seccomp, stats, found)
            if self.libpcap is not None:
                self._validation("pcap", program, self.libpcap, stats, found)

    # --- the reference VM, coverage, the solver --------------------------------------
    def _reference_sample(self, rules: str, program: Program, inputs: List[Input], stats: Stats,
                          found: List[Finding]) -> None:
        sample = inputs[:self.vm_sample]
        reference = self.reference[rules]
        fast = self.fast[rules].run(program, sample) if self.fast is not self.reference else None
        for i, inp in enumerate(sample):
            trace = reference.trace(program, inp)
            if trace is None:
                continue
            for pc in set(trace.path):
                stats.opcodes.add(f"{rules}:{program[pc][0]:#04x}")
            if fast is not None and not same(fast[i], trace.verdict, inp.length):
                found.append(Finding(FAST_PATH, rules, "compiled", program, inp, fast[i], trace.verdict))
                stats.disagreements += 1
                break
        stats.count("reference VM", len(sample) if fast is not None else 0)

    def _in_full(self, primary, program: Program, stats: Stats, found: List[Finding], budget: float) -> None:
        rules, oracle, inputs = primary[0]
        reference = self.reference[rules]
        # Every input runs on the reference VM here (for its edges): its
        # verdicts are held to the fast path's, which met the real side.
        fast = self.fast[rules].run(program, inputs) if self.fast is not self.reference else None
        taken = set()
        wrong = None
        for i, inp in enumerate(inputs):
            trace = reference.trace(program, inp)
            if trace is not None:
                taken.update(path_edges(trace.path))
                if fast is not None and wrong is None and not same(fast[i], trace.verdict, inp.length):
                    wrong = Finding(FAST_PATH, rules, "compiled", program, inp, fast[i], trace.verdict)
        if fast is not None:
            stats.count("reference VM", len(inputs))
        if wrong is not None:
            found.append(wrong)
            stats.disagreements += 1
        total = {e.key for e in cfg_edges(program, rules)}
        by_random = len(total & taken)
        solved = []
        if budget > 0:
            from ..differential.solver import edge_inputs
            started = time.monotonic()
            context = self.kernel.context if rules == "socket" and self.kernel is not None else None
            try:
                made = edge_inputs(program, rules, taken, context=context, budget=budget,
                                   timeout=min(1.0, budget))
            except Exception:     # the solver is a helper: never the reason a case fails
                made = None
            stats.solver_seconds += time.monotonic() - started
            if made is not None:
                solved = made.inputs
                stats.solver_inputs += len(solved)
                for inp in solved:
                    trace = reference.trace(program, inp)
                    if trace is not None:
                        taken.update(path_edges(trace.path))
                if made.complete:
                    # Coverage is measured against what can run: edges the
                    # solver proved dead are out of the count.
                    stats.edges_programs += 1
                    stats.edges_total += len(total - made.dead)
                    stats.edges_random += by_random
                    stats.edges_solver += len(total & taken)
        if solved:
            for rules_, oracle_, _ in primary:
                views = [oracle_.view(i) for i in solved] if rules_ == rules else \
                    [Input(i.value, None) for i in solved if not i.is_seccomp]
                self._verdicts(rules_, program, views, oracle_, stats, found)
        self._batch(rules, program, inputs, stats, found)

    def _batch(self, rules: str, program: Program, inputs: List[Input], stats: Stats,
               found: List[Finding]) -> None:
        from .. import batch
        if not batch.available() or self.fast is self.reference:
            return
        values = [i.value for i in inputs]
        contexts = None if rules == "seccomp" else [i.context or Context() for i in inputs]
        if rules == "pcap":
            contexts = [Context(len=i.wirelen) for i in inputs]
        try:
            got = batch.run_batch(program, values, contexts, target=rules).tolist()
        except Exception:
            return                       # a libpcap program that aborts: the VM comparison covers it
        fast = self.fast[rules].run(program, inputs)
        stats.count("batch", len(inputs))
        for inp, b, f in zip(inputs, got, fast):
            if isinstance(f, int) and b != f:
                reference = self.reference[rules].run(program, [inp])[0]
                found.append(Finding(FAST_PATH, rules, "batch", program, inp, b, reference))
                stats.disagreements += 1
                break

    # --- shrinking -------------------------------------------------------------------
    def oracle(self, name: str, rules: str):
        if name == "kernel":
            return self.kernel_seccomp if rules == "seccomp" else self.kernel
        if name == "libpcap":
            return self.libpcap
        return None

    def predicate(self, finding: Finding) -> Predicate:
        """``fails(program, input)``: does this finding still stand?"""
        rules = finding.target
        reference = self.reference[rules]
        if finding.kind == FAST_PATH:
            fast = self.fast[rules] if finding.against == "compiled" else None

            def fast_fails(program, inp):
                if not reference.accepts(program).accepted:
                    return False
                if fast is None:
                    from .. import batch
                    ctx = None if rules == "seccomp" else (Context(len=inp.wirelen) if rules == "pcap"
                                                             else inp.context or Context())
                    ours = int(batch.run_batch(program, [inp.value], None if ctx is None else [ctx],
                                               target=rules)[0])
                else:
                    ours = fast.run(program, [inp])[0]
                return not same(ours, reference.run(program, [inp])[0], inp.length)
            return fast_fails
        oracle = self.oracle(finding.against, rules)
        if finding.kind == VALIDATION:
            ours_accepts = finding.ours.accepted

            def validation_fails(program, inp):
                c = compare(program, [], reference, oracle, explain=False)
                return any(d.index is None and d.ours.accepted == ours_accepts for d in c.differences)
            return validation_fails

        def verdict_fails(program, inp):
            c = compare(program, [inp], reference, oracle, explain=False)
            return any(d.index == 0 for d in c.differences)
        return verdict_fails

    def replay(self, finding: Finding) -> Optional[Finding]:
        """The finding re-run as it stands (after shrinking): fresh outcomes
        from both sides, or None when it no longer disagrees."""
        rules = finding.target
        reference = self.reference[rules]
        if finding.kind == VALIDATION:
            oracle = self.oracle(finding.against, rules)
            c = compare(finding.program, [], reference, oracle, explain=False)
            for d in c.differences:
                return Finding(VALIDATION, rules, finding.against, finding.program, None, d.ours, d.theirs,
                               finding.origin, finding.shrunk)
            return None
        inp = finding.input
        ours = reference.run(finding.program, [inp])[0]
        if finding.kind == FAST_PATH:
            if not self.predicate(finding)(finding.program, inp):
                return None
            fast = (self.fast[rules].run(finding.program, [inp])[0] if finding.against == "compiled"
                    else finding.ours)
            return Finding(FAST_PATH, rules, finding.against, finding.program, inp, fast, ours,
                           finding.origin, finding.shrunk)
        oracle = self.oracle(finding.against, rules)
        theirs = oracle.run(finding.program, [oracle.view(inp)])[0]
        if same(ours, theirs, inp.length):
            return None
        return Finding(VERDICT, rules, finding.against, finding.program, inp, ours, theirs,
                       finding.origin, finding.shrunk)

