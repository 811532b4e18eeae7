"""The README's "your own Hypothesis tests" example, verbatim: it must run."""

from hypothesis import given, settings
from bpfcheck import compile, parse, run
from bpfcheck.strategies import packets, seccomp_data

WEB = compile("tcp port 80")
WEB_UNOPTIMIZED = compile("tcp port 80", optimize=False)


@settings(max_examples=50, derandomize=True, database=None, deadline=None)
@given(packets(for_program=WEB))   # raw bytes, scapy frames, lengths at every load boundary of WEB
def test_the_optimizer_keeps_my_filter(packet):
    assert run(WEB, packet, target="pcap") == run(WEB_UNOPTIMIZED, packet, target="pcap")


POLICY = parse("""
        ld [4]
        jne #0xc000003e, kill
        ld [0]
        jeq #59, kill
        ret #0x7fff0000
kill:   ret #0x80000000
""")


@settings(max_examples=50, derandomize=True, database=None, deadline=None)
@given(seccomp_data(arch=0xC000003E))
def test_my_policy_kills_execve_and_nothing_else(data):
    verdict = run(POLICY, data, target="seccomp")
    assert verdict == (0x80000000 if data.nr == 59 else 0x7FFF0000)
