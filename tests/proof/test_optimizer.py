"""libpcap's optimizer, checked on every expression of tests/data/expressions.txt.

For each expression the optimized and unoptimized programs must be proved
equivalent — or, where libpcap's optimizer really changes behaviour, the
witness must be confirmed by libpcap's own ``bpf_filter`` on both programs,
and the expression must be one of the named regressions below (so a new
difference, or a fixed one, makes this test fail and gets looked at).
"""

import os

import pytest

from bpfcheck.proof.prove import equivalent

oracle = pytest.importorskip("bpfcheck.oracles.libpcap")

HERE = os.path.dirname(__file__)
EXPRESSIONS = [line.strip() for line in open(os.path.join(HERE, "..", "data", "expressions.txt"))
               if line.strip() and not line.lstrip().startswith("#")]

#: Expressions where libpcap 1.10.3's optimizer changes the verdict, each
#: confirmed by libpcap's own bpf_filter.  Root cause, in every case: the
#: optimizer deletes loads whose value it proves irrelevant (e.g. `ld [26];
#: and #0; jeq #0` for the unmasked words of an IPv6 prefix, or a repeated
#: `ldh [12]`), so on a *truncated* packet the optimized program accepts
#: where the unoptimized one runs off the end and drops.
OPTIMIZER_DIFFERENCES = {
    "net 2001:db8::/32",
    "src net fe80::/10",
    "port 53 or port 5353",
    "port 80 or port 443",
    "tcp port 80 or tcp port 8080 or tcp port 8443",
    "(tcp port 80 or tcp port 443) and host 10.0.0.1",
    "tcp and (port 80 or port 443) and not src net 10.0.0.0/8",
    "host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4",
}


def _compile(expr, optimize):
    try:
        return oracle.compile(expr, "EN10MB", optimize=optimize)
    except Exception as e:   # e.g. "ip broadcast" needs a netmask
        pytest.skip(f"libpcap does not compile {expr!r}: {e}")


def test_there_are_enough_expressions():
    assert len(EXPRESSIONS) >= 150


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_optimized_and_unoptimized_agree_or_differ_for_a_known_reason(expr):
    optimized = _compile(expr, True)
    unoptimized = _compile(expr, False)
    outcome = equivalent(optimized, unoptimized, target="pcap", timeout=60)
    assert outcome.status != "unknown", f"{expr}: {outcome.reason}"
    if outcome.status == "proved":
        assert expr not in OPTIMIZER_DIFFERENCES, f"{expr}: libpcap's optimizer no longer differs here"
        return
    w = outcome.witness
    real = (oracle.bpf_filter(optimized, w.packet), oracle.bpf_filter(unoptimized, w.packet))
    assert real == (w.verdicts["a"], w.verdicts["b"]), \
        f"{expr}: witness {w.packet.hex()} gives {real} in libpcap, {w.verdicts} in bpfcheck"
    assert expr in OPTIMIZER_DIFFERENCES, \
        f"{expr}: a new libpcap optimizer difference: {w.describe()} — add it as a named regression"


@pytest.mark.parametrize("expr", sorted(OPTIMIZER_DIFFERENCES))
def test_regression_optimizer_accepts_truncated_packets(expr):
    """Each known difference, replayed on libpcap: the optimized program
    accepts a truncated packet the unoptimized one drops."""
    optimized, unoptimized = _compile(expr, True), _compile(expr, False)
    outcome = equivalent(optimized, unoptimized, target="pcap", timeout=60)
    assert outcome.status == "refuted"
    packet = outcome.witness.packet
    assert oracle.bpf_filter(optimized, packet) != 0
    assert oracle.bpf_filter(unoptimized, packet) == 0
