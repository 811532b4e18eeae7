"""Coverage, edge proofs and solver-made inputs (bpfcheck cover / gen)."""

import json
import os

import pytest
from corpus_support import ROOT

from bpfcheck import Context, Machine
from bpfcheck import coverage as cov
from bpfcheck.cli import main
from bpfcheck.corpus.case import load_case
from bpfcheck.formats import parse
from bpfcheck.oracles import libpcap

EXPRESSIONS = os.path.join(ROOT, "tests", "data", "expressions.txt")


def _twenty():
    """Twenty real filters spread over the whole expressions file (every
    section: link layer, hosts, ports, flags, arithmetic, tunnels...)."""
    exprs = [line.strip() for line in open(EXPRESSIONS, encoding="utf-8")
             if line.strip() and not line.startswith("#") and "protochain" not in line
             and line.strip() != "ip broadcast"]
    step = len(exprs) / 20
    return [exprs[int(i * step)] for i in range(20)]


def _json(capsys, argv):
    code = main(argv + ["--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("expr", _twenty())
def test_gen_then_cover_is_every_reachable_edge(expr, tmp_path, capsys):
    """Done-when: gen's capture covers 100 % of the reachable edges, dead
    edges proved and reported apart."""
    pcap, case = str(tmp_path / "t.pcap"), str(tmp_path / "t.toml")
    code, made = _json(capsys, ["gen", "--expr", expr, "-o", pcap, "--case", case])
    assert code == 0 and made["status"] == "ok"
    code, got = _json(capsys, ["cover", "--expr", expr, "--pcap", pcap])
    assert code == 0 and got["status"] == "ok"
    edges = got["edges"]
    assert edges["covered"] == edges["reachable"] > 0 and edges["percent"] == 100.0
    assert edges["unknown"] == [] and edges["uncovered"] == []
    assert got["instructions"]["percent"] == 100.0
    assert edges["dead"] == made["edges"]["dead"]
    assert len(load_case(case).packets) == got["inputs"] == len(made["inputs"])


def test_the_written_case_passes_and_its_verdicts_are_real(tmp_path, capsys):
    case = str(tmp_path / "web.toml")
    assert main(["gen", "--expr", "tcp port 80 or udp port 53", "--case", case, "--context", "afunix"]) == 0
    capsys.readouterr()
    code, obj = _json(capsys, ["corpus", "run", case])
    assert code == 0 and obj["status"] == "passed"
    assert obj["checked_by"].get("kernel (AF_UNIX)", 0) in (0, len(load_case(case).packets))


def test_dead_edges_are_proved_and_not_in_the_denominator():
    program = parse("ldh [12]\njeq #0x800, ip, other\nip: jeq #0x806, arp, notarp\nother: ret #1\n"
                    "arp: ret #2\nnotarp: ret #3\n", "asm")
    reach = cov.reachability(program, "socket")
    assert reach.edges[(2, 4)] == cov.DEAD           # 0x800 is never 0x806
    assert reach.pcs[4] == cov.DEAD
    made = cov.generate(program, "socket", mode="afunix")
    s = cov.summarise(made.coverage, made.reachability)
    assert s.edges_dead == ((2, 4),) and s.pcs_dead == (4,)
    assert s.edge_percent == 100.0 and s.edges_covered == s.edges_reachable == 4


def test_edge_conditions_match_real_runs():
    """The edge conditions derived from reach conditions agree with the
    edges real runs take (the module docstring's argument, checked)."""
    program = libpcap.compile("vlan 100 and (tcp port 80 or udp port 53)")
    from bpfcheck.frames import sample_frames
    measured = cov.measure(program, "socket", [(f, None) for f in sample_frames(0, 150)])
    reach = cov.reachability(program, "socket")
    for key in measured.edge_keys:
        assert reach.edges[key] == cov.LIVE, key


def test_capture_context_generation_for_extension_loads(tmp_path, capsys):
    """A socket filter reading skb->protocol: in capture mode the solver's
    frames carry the EtherType that makes the kernel set the protocol."""
    prog = tmp_path / "p.asm"
    prog.write_text("ld #proto\njeq #0x86dd, v6, other\nv6: ret #1\nother: ret #0\n")
    pcap = str(tmp_path / "t.pcap")
    assert main(["gen", str(prog), "-o", pcap]) == 0
    capsys.readouterr()
    code, got = _json(capsys, ["cover", str(prog), "--pcap", pcap])
    assert got["edges"]["percent"] == 100.0 and got["edges"]["dead"] == []


def test_pcap_and_seccomp_targets(tmp_path, capsys):
    pcap = str(tmp_path / "t.pcap")
    assert main(["gen", "--expr", "greater 100", "--target", "pcap", "-o", pcap]) == 0
    capsys.readouterr()
    code, got = _json(capsys, ["cover", "--expr", "greater 100", "--target", "pcap", "--pcap", pcap])
    assert got["edges"]["percent"] == 100.0
    policy = tmp_path / "s.asm"
    policy.write_text("ld [4]\njne #0xc000003e, kill\nld [0]\njeq #59, kill\nret #0x7fff0000\n"
                      "kill: ret #0x80000000\n")
    case = str(tmp_path / "s.toml")
    assert main(["gen", str(policy), "--target", "seccomp", "--case", case]) == 0
    capsys.readouterr()
    code, got = _json(capsys, ["cover", str(policy), "--target", "seccomp", "--case", case])
    assert got["edges"]["percent"] == 100.0
    assert main(["gen", str(policy), "--target", "seccomp", "-o", pcap]) == 2


def test_cover_reports_what_is_missing(tmp_path, capsys):
    from bpfcheck.pcapio import PcapWriter
    pcap = str(tmp_path / "one.pcap")
    with PcapWriter(pcap) as w:
        w.write(b"\x00" * 60)
    assert main(["cover", "--expr", "tcp port 80", "--pcap", pcap, "--fail-under", "90"]) == 1
    out = capsys.readouterr().out
    assert "edges: 3 of 27 reachable covered (11.1 %)" in out and "not taken: 1->2" in out


@pytest.mark.parametrize("expr", ["ip6 protochain 6", "ip protochain 17"])
def test_gen_covers_every_edge_of_a_loop(expr, tmp_path, capsys):
    # libpcap's loops: each edge is asked for as "taken within the solver's
    # unrolling", so the loop's back edges and exits get inputs too.
    pcap = str(tmp_path / "t.pcap")
    code, made = _json(capsys, ["gen", "--expr", expr, "--target", "pcap", "-o", pcap])
    assert code == 0 and made["edges"]["unknown"] == []
    code, got = _json(capsys, ["cover", "--expr", expr, "--target", "pcap", "--pcap", pcap])
    assert code == 0 and got["edges"]["percent"] == 100.0 and got["edges"]["unknown"] == []


def test_an_edge_only_a_long_loop_takes_is_unknown_not_dead():
    # ldx #0; head: txa; jeq #40 -> ret #5; ldb [x + 0]; txa; add #1; tax;
    # ja head; ret #5.  The edge 2->8 needs 40 laps: beyond the unrolling.
    program = [(0x01, 0, 0, 0), (0x87, 0, 0, 0), (0x15, 5, 0, 40), (0x50, 0, 0, 0), (0x87, 0, 0, 0),
               (0x04, 0, 0, 1), (0x07, 0, 0, 0), (0x05, 0, 0, 0xFFFFFFF9), (0x06, 0, 0, 5)]
    made = cov.generate(program, "pcap").reachability
    assert made.edges[(2, 8)] == cov.UNKNOWN and "laps" in made.reasons[("edge", (2, 8))]
    assert made.edges[(2, 3)] == cov.LIVE
    proved = cov.reachability(program, "pcap")
    assert proved.edges[(2, 8)] == cov.UNKNOWN and proved.pcs[8] == cov.UNKNOWN
    forty_laps = Machine(program, "pcap").trace(bytes(40), Context(len=40)).path
    assert cov.reachability(program, "pcap", seen=cov.path_edges(forty_laps)).edges[(2, 8)] == cov.LIVE
