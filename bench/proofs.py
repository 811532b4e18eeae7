"""Proof timings: analyze and equivalence on real filters and on big programs.

Run by ``bench/run.py`` (``make bench``) or alone: ``python bench/proofs.py
[--quick]``.  Measures, in one run:

* ``analyze`` and optimized-vs-unoptimized ``equiv`` on every expression of
  tests/data/expressions.txt (libpcap-compiled, 10–600 instructions) and on
  the container seccomp profile when libseccomp is here;
* a 4,096-instruction socket program (a long, realistic host filter) and a
  4,096-instruction random program, valid by construction;
* a chain of 2,000 diamonds (2^2000 paths);
* alongside each, naive path enumeration (one solver call per path), which
  gives up after a time budget — the reason state merging exists.

Targets (issue 3): median under 1 s for the real filters, under 10 s for
any of the 4,096-instruction programs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bpfcheck import Program, analyze, equivalent, validate  # noqa: E402
from bpfcheck.errors import ValidationError  # noqa: E402

NAIVE_BUDGET = 10.0   # seconds per program for path enumeration


def expressions():
    path = os.path.join(HERE, "..", "tests", "data", "expressions.txt")
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


# --- big programs ------------------------------------------------------------
def host_filter(n_hosts: int) -> Program:
    """``host A or host B or ...`` unoptimized: libpcap's own long filters."""
    from bpfcheck.oracles.libpcap import compile as compile_expr
    hosts = " or ".join(f"host 10.{i // 250}.{i % 250}.{(i * 7) % 250 + 1}" for i in range(n_hosts))
    return compile_expr(hosts, optimize=False)


def long_host_filter(size: int = 4096) -> Program:
    """The longest host filter that fits in ``size`` instructions."""
    lo, hi = 1, 400
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(host_filter(mid)) <= size:
            lo = mid
        else:
            hi = mid - 1
    return host_filter(lo)


def random_program(size: int, seed: int = 1) -> Program:
    """A random socket program of exactly ``size`` instructions, valid by
    construction: loads, ALU, forward jumps, stores before loads, one ret
    every few dozen instructions so every part stays reachable."""
    rng = random.Random(seed)
    insns = []
    written = False
    for pc in range(size - 1):
        room = size - pc - 2
        r = rng.random()
        if r < 0.25:
            insns.append((rng.choice([0x20, 0x28, 0x30]), 0, 0, rng.randrange(64)))
        elif r < 0.35:
            insns.append((0x50, 0, 0, rng.randrange(16)))          # ldb [x + k]
        elif r < 0.40:
            insns.append((0xB1, 0, 0, rng.choice([0, 14])))       # ldx 4*([k]&0xf)
        elif r < 0.60 and room > 0:
            k = rng.randrange(256)
            insns.append((rng.choice([0x15, 0x25, 0x35, 0x45]), rng.randrange(min(room, 30) + 1),
                          rng.randrange(min(room, 30) + 1), k))
        elif r < 0.70:
            insns.append((rng.choice([0x04, 0x14, 0x54, 0x44, 0x64, 0x74, 0xA4]), 0, 0, rng.randrange(32)))
        elif r < 0.75:
            insns.append((0x02, 0, 0, 0))
            written = True
        elif r < 0.78 and written:
            insns.append((0x60, 0, 0, 0))
        elif r < 0.80:
            insns.append((0x06, 0, 0, rng.choice([0, 0xFFFF, 0x40000])))
        else:
            insns.append((rng.choice([0x07, 0x87, 0x0C, 0x1C]), 0, 0, 0))
    insns.append((0x16, 0, 0, 0))
    program = Program(insns)
    try:
        validate(program)
    except ValidationError:   # a load of M[0] on a path that skipped the store
        return random_program(size, seed + 1)
    return program


def diamond_chain(n: int = 2000) -> Program:
    """``n`` diamonds in a row: test a packet byte, set X one way or the
    other, join — 2**n paths.  libpcap's dialect takes any length."""
    insns = []
    for i in range(n):
        insns += [(0x30, 0, 0, i % 1500),            # ldb [i]
                  (0x15, 0, 1, i & 0xFF),            # jeq #i, next, skip
                  (0x01, 0, 0, i)]                   # ldx #i   (the other side keeps X)
    insns += [(0x87, 0, 0, 0), (0x54, 0, 0, 1), (0x15, 0, 1, 1), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)]
    return Program(insns)


# --- naive path enumeration, for comparison -------------------------------------
def naive_paths(program: Program, target: str, budget: float = NAIVE_BUDGET):
    """Enumerate paths depth-first, one solver question per complete path.
    Returns (paths checked, finished?, seconds)."""
    from bpfcheck.domains.z3dom import Z3, and_all
    from bpfcheck.semantics import TABLES
    from bpfcheck.symbolic.inputs import SymbolicInputs
    import z3

    inputs = SymbolicInputs(target)
    env = inputs.env(target)
    table = TABLES[target]
    solver = z3.Solver()
    solver.add(*inputs.constraints)
    start = time.monotonic()
    checked = 0
    stack = [(0, True, 0, 0, (0,) * 16)]
    while stack:
        if time.monotonic() - start > budget:
            return checked, False, time.monotonic() - start
        pc, cond, a, x, mem = stack.pop()
        effect = table[program[pc][0]](program[pc], a, x, mem, Z3, env)
        live = cond
        for guard in effect.guards:
            stack_cond = and_all(live, guard.cond)
            if stack_cond is not False:
                checked += 1
                solver.check(z3.BoolVal(stack_cond) if isinstance(stack_cond, bool) else stack_cond)
            live = and_all(live, Z3.not_(guard.cond))
        if live is False:
            continue
        a = a if effect.a is None else effect.a
        x = x if effect.x is None else effect.x
        if effect.store is not None:
            mem = mem[:effect.store[0]] + (effect.store[1],) + mem[effect.store[0] + 1:]
        flow = effect.flow
        if flow is None:
            stack.append((pc + 1, live, a, x, mem))
        elif flow[0] == "goto":
            stack.append((pc + 1 + flow[1], live, a, x, mem))
        elif flow[0] == "jump":
            stack.append((pc + 1 + flow[3], and_all(live, Z3.not_(flow[1])), a, x, mem))
            stack.append((pc + 1 + flow[2], and_all(live, flow[1]), a, x, mem))
        else:
            checked += 1
            solver.check(z3.BoolVal(live) if isinstance(live, bool) else live)
    return checked, True, time.monotonic() - start


# --- measuring ----------------------------------------------------------------------
def timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def best_of(fn, repeat: int):
    """(result of the last run, best seconds, worst seconds) over ``repeat`` runs."""
    times = []
    result = None
    for _ in range(max(1, repeat)):
        result, dt = timed(fn)
        times.append(dt)
    return result, min(times), max(times)


def describe_naive(paths: int, finished: bool, seconds: float, budget: float) -> str:
    if finished:
        return f"{seconds:.2f} s, {paths:,} paths"
    return f"> {budget:g} s cap, {paths:,} paths checked (did not finish)"


def bench_real_filters(quick: bool, naive_budget: float):
    from bpfcheck.oracles.libpcap import compile as compile_expr
    exprs = expressions()[: 40 if quick else None]
    analyze_times, equiv_times, naive_times, sizes = [], [], [], []
    unknown = unfinished = 0
    for expr in exprs:
        try:
            opt, unopt = compile_expr(expr), compile_expr(expr, optimize=False)
        except Exception:
            continue
        result, dt = timed(lambda: analyze(unopt, "pcap", timeout=60))
        analyze_times.append(dt)
        sizes.append(len(unopt))
        outcome, dt = timed(lambda: equivalent(opt, unopt, "pcap", timeout=60))
        equiv_times.append(dt)
        unknown += outcome.status == "unknown"
        paths, finished, dt = naive_paths(unopt, "pcap", naive_budget)
        naive_times.append(dt if finished else float("inf"))
        unfinished += not finished
    print(f"Real filters: {len(sizes)} libpcap-compiled expressions from tests/data/expressions.txt, "
          f"{min(sizes)}..{max(sizes)} instructions (unoptimized), target pcap")
    for name, times in (("analyze", analyze_times), ("equiv optimized vs unoptimized", equiv_times),
                        ("naive path enumeration", naive_times)):
        times = sorted(times)
        print(f"  {name:32s} median {_secs(statistics.median(times))}   p90 "
              f"{_secs(times[int(len(times) * .9)])}   max {_secs(times[-1])}")
    print(f"  equivalence unknowns: {unknown}; naive enumeration did not finish within "
          f"{naive_budget:g} s on {unfinished} of {len(sizes)}")
    return statistics.median(analyze_times), statistics.median(equiv_times)


def _secs(t: float) -> str:
    return "  (cap)" if t == float("inf") else f"{t:6.3f} s"


def bench_seccomp_profile():
    path = os.path.join(HERE, "..", "tests", "seccomp", "data", "container.json")
    try:
        from bpfcheck.seccomp.oci import compile_profile, load_profile
        with open(path, "rb") as f:
            program = compile_profile(load_profile(f.read(), path)).program
    except Exception as e:   # no libseccomp here
        print(f"  container seccomp profile: skipped ({e})")
        return
    result, dt = timed(lambda: analyze(program, "seccomp", timeout=60))
    print(f"  container seccomp profile ({len(program)} instructions): analyze {dt:.2f} s, "
          f"verdicts {len(result.verdicts.ranges)} ranges")


BIG_TARGET = 10.0


def bench_big(label: str, program: Program, target: str, repeat: int, naive_budget: float,
              targeted: bool = True) -> dict:
    result, best, worst = best_of(lambda: analyze(program, target, timeout=120), repeat)
    exact = "exact" if result.verdicts.exact else f"bounds ({result.verdicts.reason})"
    summary = (f"{len(program) - len(result.dead)} reachable, {len(result.dead)} dead, "
               f"{len(result.findings)} findings, verdicts {exact}"
               + (f", {len(result.unknown)} unknown" if result.unknown else ""))
    other = Program(list(program[:-1]) + [(0x06, 0, 0, 0x12345)])   # a different final return
    outcome, ebest, eworst = best_of(lambda: equivalent(program, other, target, timeout=120), repeat)
    paths, finished, dt = naive_paths(program, target, naive_budget)
    met = max(best, ebest) < BIG_TARGET
    print(f"  {label}: {len(program)} instructions, target {target}")
    print(f"    analyze {best:6.2f} s (spread {best:.2f}..{worst:.2f} over {repeat})   {summary}")
    print(f"    equiv   {ebest:6.2f} s (spread {ebest:.2f}..{eworst:.2f} over {repeat})   "
          f"against a variant with another final return: {outcome.status}")
    print(f"    naive path enumeration: {describe_naive(paths, finished, dt, naive_budget)}")
    if targeted:
        print(f"    target < {BIG_TARGET:g} s: {'met' if met else 'MISSED'}")
    return {"analyze": best, "equiv": ebest, "met": met}


#: the --hard seeds of live_random_program: 7 is the one measured above
HARD_SEEDS = (1, 2, 3, 7)


def bench_budgeted(seeds) -> None:
    """Each seed's program analysed with ``budget=BIG_TARGET``: the time
    it took and how much it left open (unknown, with the reason)."""
    print(f"  the same generator, other seeds, analyze with budget={BIG_TARGET:g} s "
          f"(what is not settled by then is reported unknown):")
    for seed in seeds:
        program = live_random_program(4096, seed)
        result, dt = timed(lambda: analyze(program, "socket", timeout=120, budget=BIG_TARGET))
        open_pcs = {pc for pc, _ in result.unknown}
        state = "complete" if not result.unknown and result.verdicts.exact else \
            f"{len(open_pcs)} instructions left open, verdicts {'exact' if result.verdicts.exact else 'as bounds'}"
        print(f"    seed {seed}: {dt:6.2f} s   {len(result.dead)} dead, {len(result.findings)} findings, {state}")


#: a question of seed 2's program (is instruction 1062 reachable? no: the
#: two sides of the jump before it both rule its test out) that z3's own
#: strategy for the logic could not answer
STRATEGY_QUESTION = (2, 1062)
STRATEGY_CAP = 15.0


def bench_second_core(program: Program, target: str, label: str, repeat: int = 3) -> None:
    """``analyze`` with the pipeline racing the incremental core on the
    second core (the default) and with one core (``BPFCHECK_SOLVER_THREADS=1``),
    alternating, so both see the same machine."""
    times = {"two cores": [], "one core": []}
    saved = os.environ.get("BPFCHECK_SOLVER_THREADS")
    try:
        for _ in range(repeat):
            for mode, value in (("two cores", None), ("one core", "1")):
                if value is None:
                    os.environ.pop("BPFCHECK_SOLVER_THREADS", None)
                else:
                    os.environ["BPFCHECK_SOLVER_THREADS"] = value
                times[mode].append(timed(lambda: analyze(program, target, timeout=120))[1])
    finally:
        if saved is None:
            os.environ.pop("BPFCHECK_SOLVER_THREADS", None)
        else:
            os.environ["BPFCHECK_SOLVER_THREADS"] = saved
    two, one = statistics.mean(times["two cores"]), statistics.mean(times["one core"])
    print(f"  {label}, analyze, mean of {repeat} alternating runs: racing on two cores {two:.2f} s, "
          f"one core {one:.2f} s (ratio {one / two:.2f}x)")


def bench_strategies() -> None:
    """One reach question over a whole 4,096-instruction formula, asked of
    bpfcheck's solver pipeline and of ``z3.SolverFor("QF_ABV")``."""
    import z3
    from bpfcheck.domains.z3dom import make_solver
    from bpfcheck.proof.session import Session
    seed, pc = STRATEGY_QUESTION
    session = Session("socket")
    enc = session.add_program("program", live_random_program(4096, seed))
    times = {}
    for name, solver in (("bpfcheck pipeline", make_solver(timeout=STRATEGY_CAP)),
                         ('z3 SolverFor("QF_ABV")', z3.SolverFor("QF_ABV"))):
        solver.set(timeout=int(STRATEGY_CAP * 1000))
        solver.add(*session.solver.assertions())
        solver.add(enc.reach[pc])
        (answer, dt) = timed(solver.check)
        times[name] = dt
        print(f"    {name:24s} {answer}  {dt:6.2f} s" + ("  (cap)" if answer == z3.unknown else ""))
    ratio = times['z3 SolverFor("QF_ABV")'] / times["bpfcheck pipeline"]
    print(f"    ratio: the pipeline answered {ratio:.0f}x faster (or more, where z3's own hit the cap)")


def hash_preimage_program(size: int = 4096, secret: bytes = b"bpfcheck") -> Program:
    """Rounds of multiply, xor-shift and add over two 32-bit words of the
    packet, then ``ret #1`` only when the result equals the hash of
    ``secret``: reaching it means inverting the hash, which no solver can
    be expected to do in seconds (reachability in a program without loops
    is NP-hard; this is the kind of program behind the word "any")."""
    from bpfcheck.vm import Machine
    mix = [(0x60, 0, 0, 0), (0x24, 0, 0, 0x9E3779B1), (0x07, 0, 0, 0), (0x74, 0, 0, 15),   # M0*k ^ (>>15)
           (0xAC, 0, 0, 0), (0x61, 0, 0, 1), (0x0C, 0, 0, 0), (0x02, 0, 0, 1),             # M1 += it
           (0x07, 0, 0, 0), (0x60, 0, 0, 0), (0xAC, 0, 0, 0), (0x02, 0, 0, 0)]             # M0 ^= M1
    head = [(0x20, 0, 0, 0), (0x02, 0, 0, 0), (0x20, 0, 0, 4), (0x02, 0, 0, 1)]       # M0, M1 = words 0, 1
    body = head + mix * ((size - len(head) - 4) // len(mix))
    body += [(0x04, 0, 0, 0)] * (size - len(body) - 4)                                 # add #0: padding
    hashed = Machine(Program(body + [(0x60, 0, 0, 0), (0x16, 0, 0, 0)]), "socket").run(secret)
    return Program(body + [(0x60, 0, 0, 0), (0x15, 0, 1, hashed), (0x06, 0, 0, 1), (0x06, 0, 0, 0)])


def live_random_program(size: int, seed: int = 7) -> Program:
    """A random program in which (nearly) every instruction is reachable:
    every ``ret`` but the last sits behind a test that can skip it."""
    rng = random.Random(seed)
    insns = [(0x02, 0, 0, cell) for cell in range(4)]     # st M[0..3]: every later read is safe
    while len(insns) < size - 1:
        room = size - len(insns) - 3
        r = rng.random()
        if r < 0.3:
            insns.append((rng.choice([0x20, 0x28, 0x30]), 0, 0, rng.randrange(64)))
        elif r < 0.38:
            insns.append((0x50, 0, 0, rng.randrange(16)))          # ldb [x + k]
        elif r < 0.42:
            insns.append((0xB1, 0, 0, rng.choice([0, 14])))       # ldx 4*([k]&0xf)
        elif r < 0.62 and room > 0:
            insns.append((rng.choice([0x15, 0x25, 0x35, 0x45]), rng.randrange(min(room, 30) + 1),
                          rng.randrange(min(room, 30) + 1), rng.randrange(256)))
        elif r < 0.75:
            insns.append((rng.choice([0x04, 0x14, 0x54, 0x44, 0x64, 0x74, 0xA4]), 0, 0, rng.randrange(32)))
        elif r < 0.80:
            insns.append(rng.choice([(0x02, 0, 0, rng.randrange(4)), (0x61, 0, 0, rng.randrange(4))]))
        elif r < 0.84 and room > 1:
            insns.append((0x15, 0, 1, rng.randrange(256)))         # if A == k: ret, else skip it
            insns.append((0x06, 0, 0, rng.choice([0, 0xFFFF, 0x40000, rng.randrange(1 << 32)])))
        else:
            insns.append((rng.choice([0x07, 0x87, 0x0C, 0x1C]), 0, 0, 0))
    insns = insns[:size - 1] + [(0x16, 0, 0, 0)]
    program = Program(insns)
    validate(program)
    return program


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a subset: 40 real filters, a 300-diamond chain, one run each")
    parser.add_argument("--repeat", type=int, help="runs per big-program measurement (default 3; "
                        "the best and the spread are shown)")
    parser.add_argument("--naive-budget", type=float, default=NAIVE_BUDGET,
                        help=f"seconds of naive path enumeration per big program (default {NAIVE_BUDGET:g})")
    parser.add_argument("--hard", action="store_true",
                        help="also the ALU-heavy random program that misses the target (minutes)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    print("Proof timings (z3; one formula per program, machine state merged where paths join)")
    median, equiv_median = bench_real_filters(args.quick, min(args.naive_budget, 2.0))
    bench_seccomp_profile()
    print(f"Big programs (best of {repeat}; naive enumeration: one solver call per path, "
          f"capped at {args.naive_budget:g} s)")
    results = [
        bench_big("long host filter (host A or host B or ..., libpcap, unoptimized)",
                  long_host_filter(4096), "socket", repeat, args.naive_budget),
        bench_big("random program (most of it unreachable past early rets)",
                  random_program(4096), "socket", repeat, args.naive_budget),
    ]
    if args.hard:
        results.append(bench_big("random program, every part reachable (ALU-heavy)",
                                 live_random_program(4096), "socket", 1, args.naive_budget))
        bench_budgeted(HARD_SEEDS)
        program = hash_preimage_program()
        result, dt = timed(lambda: analyze(program, "socket", timeout=120, budget=BIG_TARGET))
        print(f"  a 64-bit hash preimage ({len(program):,} instructions; reaching ret #1 means inverting "
              f"the hash), analyze with budget={BIG_TARGET:g} s: {dt:.2f} s, "
              f"{len(result.unknown)} open" + ("" if dt < BIG_TARGET + 1 else
                                                "  (over budget: z3 took the formula in without "
                                                "looking at its limit)"))
        print(f"  one question (is instruction {STRATEGY_QUESTION[1]} of seed {STRATEGY_QUESTION[0]} "
              f"reachable?) under two z3 strategies, capped at {STRATEGY_CAP:g} s:")
        bench_strategies()
        bench_second_core(diamond_chain(2000), "pcap", "2,000-diamond chain")
    else:
        print("  random program, every part reachable (ALU-heavy): skipped (--hard runs it and other "
              "seeds; it is known to MISS the target: about 20 s, down from ~4 min; other seeds take "
              "from 0.5 s to minutes, and with --budget 10 return in 10 s with what is open named)")
    n = 300 if args.quick else 2000
    chain = bench_big(f"{n:,}-diamond chain (2^{n} paths)", diamond_chain(n), "pcap", repeat,
                      args.naive_budget, targeted=False)
    big = [r for r in results]
    worst = max(max(r["analyze"], r["equiv"]) for r in big)
    print(f"Targets (issue 3): real filters median analyze {median:.3f} s, equiv {equiv_median:.3f} s "
          f"(< 1 s: {'met' if max(median, equiv_median) < 1 else 'MISSED'}); "
          f"slowest 4,096-instruction program {worst:.2f} s (< {BIG_TARGET:g} s: "
          f"{'met' if worst < BIG_TARGET else 'MISSED'}"
          f"{'' if args.hard else ' for those run; the --hard one is known to MISS'}); "
          f"{n:,}-diamond chain analyze {chain['analyze']:.2f} s, equiv {chain['equiv']:.2f} s")


if __name__ == "__main__":
    main()
