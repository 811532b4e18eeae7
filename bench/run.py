"""``make bench``: bpfcheck's fast paths against libpcap, tcpdump and the kernel.

    .venv/bin/python bench/run.py            # 1,000,000 packets
    .venv/bin/python bench/run.py --quick    # 20,000 packets, a smoke run

For three filters (``arp``, ``tcp port 80 or udp port 53`` and a
101-instruction ``host A or host B or ...``) it measures, in one run over
the same capture: the reference VM (on an evenly spread subsample,
extrapolated), the compiled path, the batch path (on packets packed once;
packing is timed apart), libpcap's ``bpf_filter`` in C, and as whole
processes ``tcpdump -r FILE -w /dev/null EXPR`` against ``bpfcheck run
--pcap FILE --expr EXPR -q``.  Then the peak memory of ``run --pcap`` for
two capture sizes, the kernel oracle's comparison rate, the differential
fuzzer's throughput (``bench/fuzz.py``), and the proof
timings of ``bench/proofs.py`` when it exists.  Every rate is the best of
a few runs; ratios are ours over libpcap's, measured in this run.

Verdicts are checked too: the batch path's must equal libpcap's on every
packet (the ``pcap`` target is libpcap's semantics).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench import capture as bench_capture  # noqa: E402
from bench import measure  # noqa: E402

OUT = bench_capture.OUT


def filters():
    hosts = " or ".join(f"host {a}" for a in bench_capture.host_addresses())
    return [("arp", "arp"), ("tcp/udp ports", "tcp port 80 or udp port 53"), ("30 hosts", hosts)]


def read_capture(path):
    from bpfcheck.pcapio import iter_batches
    datas, wirelens = [], []
    for _linktype, batch in iter_batches(path):
        for data, wirelen in batch:
            datas.append(data)
            wirelens.append(wirelen)
    return datas, wirelens


def rate(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(pps):
    return f"{pps / 1e6:8.2f} M/s" if pps >= 1e5 else f"{pps / 1e3:8.1f} k/s"


class Report:
    def __init__(self):
        self.results = {}

    def line(self, text=""):
        print(text, flush=True)

    def row(self, name, pps, reference=None, note=""):
        ratio = f"   {pps / reference:6.2f}x libpcap" if reference else ""
        self.line(f"  {name:<34} {fmt_rate(pps)}{ratio}{note}")


# --- in process ------------------------------------------------------------------------
def in_process(report, args, path, datas, wirelens, harness):
    import numpy as np
    import bpfcheck
    from bpfcheck import Context
    from bpfcheck.batch import run_batch
    from bpfcheck.fast.compiled import compile_program
    from bpfcheck.fast.packed import Packed
    from bpfcheck.vm import Machine

    n = len(datas)
    report.line(f"In process, {n:,} packets, target pcap (libpcap's semantics), best of "
                f"{args.repeat}, cyclic GC off (as in run --pcap)")
    pack_time, packed = measure.best_of(lambda: Packed.of_packets(datas, wirelens), 1)
    report.line(f"  packing for the batch path (once, reused by every filter): "
                f"{fmt_rate(rate(n, pack_time)).strip()} ({pack_time:.2f} s)")
    step = max(1, n // args.vm_sample)
    sample = list(range(0, n, step))[:args.vm_sample]
    for name, expr in filters():
        program = bpfcheck.compile(expr)
        report.line(f"\n{name}: {expr[:60]}{'...' if len(expr) > 60 else ''} "
                    f"({len(program)} instructions)")
        res = report.results.setdefault(name, {"instructions": len(program)})
        libpcap_pps = None
        if harness:
            count, seconds, raw = measure.run_harness(harness, program.to_bytes(), path,
                                                      args.repeat, OUT)
            libpcap_pps = res["libpcap_c"] = rate(count, seconds)
            report.row("libpcap bpf_filter (C)", libpcap_pps)
        machine = Machine(program, "pcap")
        vm_time, _ = measure.best_of(
            lambda: [machine.run(datas[i], Context(len=wirelens[i])) for i in sample], 1)
        res["vm"] = rate(len(sample), vm_time)
        report.row(f"reference VM ({len(sample)} sampled, extrap.)", res["vm"], libpcap_pps)
        raw_fn = compile_program(program, "pcap").raw
        comp_time, _ = measure.best_of(lambda: [raw_fn(d, w) for d, w in zip(datas, wirelens)],
                                       args.repeat)
        res["compiled"] = rate(n, comp_time)
        report.row("compiled path", res["compiled"], libpcap_pps,
                   f"   {res['compiled'] / res['vm']:6.1f}x the VM")
        batch_time, verdicts = measure.best_of(lambda: run_batch(program, packed, target="pcap"),
                                               args.repeat)
        res["batch"] = rate(n, batch_time)
        res["batch_s"], res["pack_s"] = batch_time, pack_time
        report.row("batch path (numpy)", res["batch"], libpcap_pps)
        res["batch_with_packing"] = rate(n, batch_time + pack_time)
        report.row("batch path incl. packing", res["batch_with_packing"], libpcap_pps)
        if harness:
            same = bool((np.frombuffer(raw, dtype=np.uint32) == verdicts).all())
            res["same_verdicts_as_libpcap"] = same
            report.line(f"  verdicts identical to libpcap's on all {n:,} packets: "
                        f"{'yes' if same else 'NO'}")


# --- whole processes -------------------------------------------------------------------
#: issue 7: a whole ``run --pcap`` at most this many times tcpdump's wall time
PROCESS_TARGET = 3.0


def processes(report, args, path, small_path, n, n_small):
    import shutil
    env = measure.python_env(os.path.join(OUT, "pycache"))
    ours = [sys.executable, "-m", "bpfcheck", "run", "--pcap"]
    report.line(f"\nWhole processes on {n:,} packets (wall time, best of {args.repeat}, "
                f"runs interleaved; spread = slowest - fastest; target: at most "
                f"{PROCESS_TARGET:g}x tcpdump)")
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        report.line("  tcpdump is not installed: skipped")
    measure.run_process(ours + [small_path, "--expr", "arp", "-q"], env)   # fills the bytecode cache
    report.line("  " + record_walk())
    for name, expr in filters():
        res = report.results.setdefault(name, {})
        commands = {"bpfcheck": (ours + [path, "--expr", expr, "-q"], env)}
        if tcpdump:
            commands["tcpdump"] = ([tcpdump, "-r", path, "-w", "/dev/null", expr], None)
        walls = measure.interleaved(commands, args.repeat)
        wall = min(walls["bpfcheck"])
        res["process_bpfcheck_s"] = wall
        text = (f"  {name:<14} bpfcheck run --pcap {wall:6.2f} s "
                f"(+{max(walls['bpfcheck']) - wall:4.2f})")
        if tcpdump:
            t_wall = min(walls["tcpdump"])
            ratio = wall / t_wall
            res["process_tcpdump_s"] = t_wall
            res["process_ratio"] = ratio
            res["process_target_met"] = ratio <= PROCESS_TARGET
            text += (f"   tcpdump -r {t_wall:6.2f} s (+{max(walls['tcpdump']) - t_wall:4.2f})"
                     f"   ratio {ratio:5.1f}x  "
                     f"{'target met' if ratio <= PROCESS_TARGET else 'target MISSED'}")
        report.line(text)
    breakdown(report, args, path, env)
    report.line("\nPeak memory of bpfcheck run --pcap (tcp/udp ports)")
    expr = filters()[1][1]
    for count, p in ((n_small, small_path), (n, path)):
        rss = measure.peak_memory(["run", "--pcap", p, "--expr", expr, "-q"], env)
        report.results.setdefault("memory_kib", {})[str(count)] = rss
        report.line(f"  {count:>10,} packets ({os.path.getsize(p) / 1e6:7.1f} MB file): "
                    f"{rss / 1024:6.1f} MiB")


def record_walk() -> str:
    """Which walk finds the records (bpfcheck/fast/native.py)."""
    from bpfcheck.fast import native
    if native.walker() is not None:
        return "records found by the C walk (bpfcheck/fast/native/pcapwalk.c, built once into the cache)"
    return f"records found by the pure-Python walk: the C walk is not built ({native.failure() or 'switched off'})"


def breakdown(report, args, path, env):
    """Where the whole-process time of ``run --pcap`` goes: process start
    and imports (measured as processes), then one in-process pass doing
    what ``run --pcap`` does, each stage timed."""
    import gc

    import bpfcheck
    from bpfcheck import Context
    from bpfcheck.capture_run import CaptureSummary, _Evaluator
    from bpfcheck.pcapio import iter_chunks

    python = [sys.executable]
    expr = "tcp port 80 or udp port 53"
    bare = min(measure.interleaved({"": (python + ["-c", "pass"], env)}, args.repeat)[""])
    numpy = min(measure.interleaved({"": (python + ["-c", "import numpy"], env)}, args.repeat)[""])
    start = min(measure.interleaved({"": (python + ["-m", "bpfcheck", "run", "--expr", expr,
                                                    "--packet", "00", "-q"], env)},
                                    args.repeat)[""])
    evaluate = _Evaluator(bpfcheck.compile(expr), "socket", Context())

    def one_pass():
        spent = {"waiting for records (read ahead on a thread)": 0.0, "filtering": 0.0, "counting": 0.0}
        clock = time.perf_counter
        summary = CaptureSummary()
        t = clock()
        for chunk in iter_chunks(path):
            t1 = clock()
            verdicts, _ = evaluate.chunk(chunk)
            t2 = clock()
            summary.add(verdicts)
            t3 = clock()
            spent["waiting for records (read ahead on a thread)"] += t1 - t
            spent["filtering"] += t2 - t1
            spent["counting"] += t3 - t2
            t = clock()
        return spent

    gc.disable()
    try:
        passes = [one_pass() for _ in range(max(1, args.repeat))]
    finally:
        gc.enable()
    spent = min(passes, key=lambda d: sum(d.values()))
    parts = {"interpreter start": bare, "numpy import": max(0.0, numpy - bare),
             "bpfcheck imports + CLI + libpcap compile": max(0.0, start - bare), **spent}
    report.results["breakdown_s"] = parts
    report.line("  where bpfcheck's time goes (tcp/udp ports): " +
                ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items()))


# --- the kernel oracle ------------------------------------------------------------------
def kernel(report, args, datas):
    import bpfcheck
    from bpfcheck.batch import run_batch
    try:
        from bpfcheck.oracles.kernel import KernelSocket
    except Exception as exc:   # pragma: no cover - not Linux
        report.line(f"\nKernel oracle: unavailable ({exc})")
        return
    program = bpfcheck.compile("tcp port 80 or udp port 53")
    packets = datas[:args.kernel_packets]
    report.line(f"\nKernel oracle (AF_UNIX socket pair, filter attached once, "
                f"{len(packets):,} packets)")
    try:
        with KernelSocket(program, cpu="current") as ks:
            ctx = ks.context()

            def compare():
                got = ks.run_many(packets)
                ours = run_batch(program, packets, ctx).tolist()
                want = [None if v == 0 else min(len(p), v) for p, v in zip(packets, ours)]
                return sum(1 for a, b in zip(got, want) if a != b)

            seconds, differences = measure.best_of(compare, args.repeat)
    except Exception as exc:
        report.line(f"  unavailable here: {exc}")
        return
    report.results["kernel"] = {"comparisons_per_s": rate(len(packets), seconds),
                                "differences": differences}
    report.line(f"  {rate(len(packets), seconds):,.0f} program x packet comparisons/s "
                f"(kernel verdicts and ours), {differences} differences")


# --- differential fuzzing (bench/fuzz.py) -----------------------------------------------------
def fuzz(report, args):
    from bench import fuzz as fuzz_bench
    seconds = 5.0 if args.quick else 20.0
    report.line(f"\nDifferential fuzzing (bench/fuzz.py, {seconds:.0f} s per measurement; "
                "program x input comparisons/s)")
    try:
        results = fuzz_bench.measure(seconds)
    except Exception as exc:   # pragma: no cover - no kernel or libpcap here
        report.line(f"  unavailable here: {exc}")
        return
    report.results["fuzz"] = results
    for line in fuzz_bench.lines(results):
        report.line(line)


# --- proofs ---------------------------------------------------------------------------------
def proofs(report, args):
    report.line("\nProof timings (bench/proofs.py)")
    if args.quick:
        report.line("  skipped with --quick")
        return
    try:
        from bench import proofs as proof_bench
    except ImportError:
        report.line("  bench/proofs.py is not there yet: skipped")
        return
    proof_bench.main(["--quick"] if args.quick else [])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 packets, one repeat")
    parser.add_argument("--packets", type=int, help="capture size (default 1,000,000)")
    parser.add_argument("--processes-only", action="store_true",
                        help="only the whole-process comparison with tcpdump, its breakdown "
                        "and the peak memory")
    parser.add_argument("--repeat", type=int, help="runs per measurement (default 3, 1 with --quick)")
    args = parser.parse_args(argv)
    n = args.packets or (20_000 if args.quick else 1_000_000)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.vm_sample = 300 if args.quick else 3000
    args.kernel_packets = min(n, 5_000 if args.quick else 200_000)
    report = Report()
    report.results["packets"] = n
    started = time.perf_counter()
    os.makedirs(OUT, exist_ok=True)

    t = time.perf_counter()
    path = bench_capture.capture(n)
    small = bench_capture.capture(max(1, n // 4))
    report.line(f"capture: {path} ({n:,} packets, {os.path.getsize(path) / 1e6:.1f} MB; "
                f"ready in {time.perf_counter() - t:.1f} s)")
    if args.processes_only:
        processes(report, args, path, small, n, max(1, n // 4))
        return _save(report, started, "results-processes.json")
    harness, why = measure.build_harness(OUT)
    if harness is None:
        report.line(f"libpcap C harness: {why}; skipped")
    datas, wirelens = read_capture(path)

    import gc
    gc.disable()
    try:
        in_process(report, args, path, datas, wirelens, harness)
    finally:
        gc.enable()
    processes(report, args, path, small, n, max(1, n // 4))
    kernel(report, args, datas)
    fuzz(report, args)
    proofs(report, args)

    return _save(report, started)


def _save(report, started, name: str = "results.json") -> int:
    report.results["seconds"] = time.perf_counter() - started
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(report.results, f, indent=1)
    report.line(f"\n(done in {report.results['seconds']:.0f} s; numbers in "
                f"{os.path.relpath(os.path.join(OUT, name), ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
