"""Witnesses of small programs do not depend on where the search started:
of the minimal inputs, the one with the lexicographically least bytes."""

from bpfcheck import Context, Machine, compile
from bpfcheck.proof.session import SAT, Session

TCP_80 = compile("tcp port 80")


def _witness(program, goal_of, replay, hint):
    session = Session("socket")
    enc = session.add_program("program", program)
    status, packet, ctx, _ = session.find(goal_of(enc), lambda p, c: replay(session, p, c), hint)
    assert status == SAT
    return packet, ctx


def test_either_port_gives_the_same_witness():
    head = bytes(12) + b"\x08\x00"
    src_80 = head + b"\x00\x50" + bytes(7) + b"\x06"          # IHL 0: the ports start at 14
    dst_80 = head + b"\x00\x00\x00\x50" + bytes(5) + b"\x06"
    assert Machine(TCP_80, "socket").run(src_80) and Machine(TCP_80, "socket").run(dst_80)
    found = {_witness(TCP_80, lambda enc: enc.verdict != 0,
                      lambda s, p, c: s.run("program", p, c).verdict != 0,
                      None if hint is None else (hint, Context()))[0]
             for hint in (src_80, dst_80, None)}
    assert found == {dst_80}        # 00 00 00 50 sorts before 00 50 ...


def _frames():
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Ether
    return {
        "tcp port 80": [Ether() / IP() / TCP(sport=80, dport=1), Ether() / IP() / TCP(sport=1, dport=80),
                        Ether() / IPv6() / TCP(sport=80, dport=1)],
        "host 10.0.0.1": [Ether() / IP(src="10.0.0.1"), Ether() / IP(dst="10.0.0.1"),
                          Ether() / ARP(psrc="10.0.0.1"), Ether() / ARP(pdst="10.0.0.1")],
        "udp port 53 or tcp port 443": [Ether() / IP() / UDP(sport=53), Ether() / IP() / UDP(dport=53),
                                        Ether() / IPv6() / TCP(dport=443)],
    }


def test_every_accepted_frame_leads_to_the_same_witness():
    for expr, frames in _frames().items():
        program = compile(expr)
        found = {_witness(program, lambda enc: enc.verdict != 0,
                          lambda s, p, c: s.run("program", p, c).verdict != 0, (bytes(f), Context()))
                 for f in frames}
        assert len(found) == 1, (expr, found)
