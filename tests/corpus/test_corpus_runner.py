"""run_case: every check of a case, each failure explained."""

from corpus_support import SYN80, tcp80_case, write

from bpfcheck.corpus.runner import run_case

SECCOMP = """format = "bpfcheck-case/1"
name = "deny-execve"
target = "seccomp"

[program]
text = \"\"\"
        ld [0]
        jeq #59, kill
        ret #0x7fff0000
kill:   ret #0x80000000
\"\"\"

[[syscalls]]
nr = "execve"
arch = "x86_64"
verdict = 0x80000000

[[syscalls]]
nr = 11
arch = "i386"
verdict = 0x7fff0000

[[properties]]
property = "arch != AUDIT_ARCH_X86_64 -> action == KILL_PROCESS"
expect = "refuted"
"""


def test_a_passing_case_replays_on_the_vm_and_the_kernel(tmp_path):
    result = run_case(tcp80_case(tmp_path), str(tmp_path))
    assert result.status == "passed", result.explain()
    packet = next(c for c in result.checks if c.where == "packets[0]")
    assert packet.got["reference VM"] == "0x40000"
    assert packet.got.get("kernel (AF_UNIX)") in ("0x40000", None)   # None only where there is no kernel oracle
    assert result.path == "web.toml"


def test_a_wrong_verdict_is_explained(tmp_path):
    result = run_case(tcp80_case(tmp_path, verdict="0x1"), str(tmp_path))
    assert result.status == "failed"
    text = result.explain()
    assert "packets[0] (a SYN to port 80): expected 0x1, got 0x40000 from the reference VM" in text
    assert SYN80 in text              # the packet itself
    assert "IP / TCP 192.168.0.1:1234 > 192.168.0.2:http S" in text   # and what it is


def test_contexts_other_than_af_unix_skip_the_kernel_and_say_so(tmp_path):
    path = write(tmp_path, "ctx.toml", """format = "bpfcheck-case/1"
[program]
text = "ld #proto\\nret a"
[[packets]]
hex = "00"
verdict = 0x800
context = { protocol = 0x800 }
[[packets]]
hex = "00"
verdict = 0
""")
    result = run_case(path)
    assert result.status == "passed", result.explain()
    first, second = [c for c in result.checks if c.kind == "packet"]
    assert "kernel (AF_UNIX)" not in first.got and any("kernel skipped" in n for n in first.notes)
    assert not second.notes
    assert any("AF_UNIX" in n for n in result.notes)


def test_properties_and_equivalence_with_witnesses(tmp_path):
    path = write(tmp_path, "p.toml", """format = "bpfcheck-case/1"
name = "props"
[program]
expr = "udp port 53"
[[properties]]
property = "accepted -> len >= 54"
expect = "refuted"
[[properties]]
property = "verdict in {0, 262144}"
[equivalent]
expr = "udp port 53"
optimize = false
relation = "subsumes"
""")
    result = run_case(path)
    assert result.status == "passed", result.explain()
    refuted = next(c for c in result.checks if c.where == "properties[0]")
    assert refuted.evidence is not None and refuted.evidence.packet


def test_a_property_expected_proved_but_refuted_shows_the_witness(tmp_path):
    path = write(tmp_path, "p.toml", """format = "bpfcheck-case/1"
[program]
expr = "udp port 53"
[[properties]]
property = "accepted -> len >= 54"
""")
    text = run_case(path).explain()
    assert "properties[0] (accepted -> len >= 54): expected proved, got refuted" in text
    assert "witness: packet" in text


def test_seccomp_syscalls_by_name_and_number(tmp_path):
    result = run_case(write(tmp_path, "s.toml", SECCOMP))
    assert result.status == "passed", result.explain()
    assert [c.got["reference VM"] for c in result.checks if c.kind == "syscall"] == ["0x80000000", "0x7fff0000"]


def test_programs_the_target_refuses(tmp_path):
    path = write(tmp_path, "v.toml", """format = "bpfcheck-case/1"
valid = false
[program]
text = "ldh [12]"
format = "asm"
""")
    result = run_case(path)
    assert result.status == "passed", result.explain()
    wrong = write(tmp_path, "w.toml", open(path).read().replace("valid = false\n", ""))
    result = run_case(wrong)
    assert result.status == "failed"
    assert "expected valid, got invalid" in result.explain()


def test_broken_cases_are_errors_not_crashes(tmp_path):
    bad_toml = run_case(write(tmp_path, "a.toml", "format = \"bpfcheck-case/1\"\n[program\n"))
    assert bad_toml.status == "error" and "not valid TOML" in bad_toml.explain()
    bad_expr = run_case(write(tmp_path, "b.toml", "format = \"bpfcheck-case/1\"\n[program]\nexpr = \"tcp port\"\n"))
    assert bad_expr.status == "error" and "b.toml" in bad_expr.explain()
    bad_prop = run_case(write(tmp_path, "c.toml", "format = \"bpfcheck-case/1\"\n[program]\nexpr = \"tcp\"\n"
                                                   "[[properties]]\nproperty = \"accepted ->\"\n"))
    assert bad_prop.status == "error" and "properties[0]" in bad_prop.explain()


def test_captures_in_a_case(tmp_path):
    from bpfcheck.pcapio import PcapWriter
    with PcapWriter(str(tmp_path / "web.pcap")) as w:
        w.write(bytes.fromhex(SYN80))
        w.write(b"\x00" * 20)
    path = write(tmp_path, "cap.toml", """format = "bpfcheck-case/1"
target = "pcap"
[program]
expr = "tcp port 80"
[[pcap]]
file = "web.pcap"
verdicts = [0x40000, 0]
[[pcap]]
file = "web.pcap"
accepted = 2
""")
    result = run_case(path)
    first, second = [c for c in result.checks if c.kind == "pcap"]
    assert first.status == "passed"
    assert second.status == "failed" and "expected 2 accepted, got 1 accepted" in second.explain()
