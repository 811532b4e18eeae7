"""``bpfcheck seccomp ...``: thin shells, one JSON object with --json, exit codes."""

import json

import pytest

from bpfcheck.cli import main

from seccomp_support import PROFILE, VARIANT, needs_libseccomp

pytestmark = needs_libseccomp

FLAWED = "ld [0]\njeq #59, kill\nret #0x7fff0000\nkill: ret #0x80000000\n"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


SMALL = {"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
    {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}


def test_compile_then_explain_the_raw_program(tmp_path, capsys):
    profile, out_file = tmp_path / "small.json", tmp_path / "small.bpf"
    profile.write_text(json.dumps(SMALL))
    code, _, err = run_cli(capsys, "seccomp", "compile", str(profile), "-o", str(out_file))
    assert code == 0 and "written to" in err
    assert len(out_file.read_bytes()) % 8 == 0
    code, out, _ = run_cli(capsys, "seccomp", "explain", str(out_file), "--json")
    obj = json.loads(out)
    assert code == 0 and obj["status"] == "ok" and obj["proved"]
    assert [r["syscall"] for r in obj["conditional"]] == ["personality"]
    assert obj["conditional"][0]["cases"][1]["condition"] == "args[0] == 0x8"


def test_explain_text_and_html(tmp_path, capsys):
    html = tmp_path / "t.html"
    code, out, _ = run_cli(capsys, "seccomp", "explain", PROFILE, "--arch", "i386", "--html", str(html))
    assert code == 0 and "architecture i386" in out and "socketcall" in out
    assert html.read_text().startswith("<section")


def test_compile_listing_and_json(capsys):
    code, out, _ = run_cli(capsys, "seccomp", "compile", PROFILE, "--to", "tcpdump")
    assert code == 0 and out.startswith("(000) ld")
    code, out, _ = run_cli(capsys, "seccomp", "compile", PROFILE, "--json")
    obj = json.loads(out)
    assert obj["status"] == "ok" and obj["instructions"] > 500 and obj["skipped"]


def test_diff_exit_codes(capsys):
    code, out, _ = run_cli(capsys, "seccomp", "diff", PROFILE, VARIANT, "--json")
    obj = json.loads(out)
    assert code == 1 and obj["status"] == "different" and obj["differences"] == len(obj["changes"])
    assert all(c["witness"]["seccomp"] for c in obj["changes"])



def test_diff_of_equivalent_filters(tmp_path, capsys):
    a, b = tmp_path / "a.asm", tmp_path / "b.asm"
    a.write_text("ld [0]\njeq #59, deny\nret #0x7fff0000\ndeny: ret #0x50001\n")
    b.write_text("ld [0]\njne #59, ok\nret #0x50001\nok: ret #0x7fff0000\n")
    code, out, _ = run_cli(capsys, "seccomp", "diff", str(a), str(b))
    assert code == 0 and "0 changes" in out


def test_audit_json_and_user_checks(tmp_path, capsys):
    f = tmp_path / "flawed.asm"
    f.write_text(FLAWED)
    code, out, _ = run_cli(capsys, "seccomp", "audit", str(f), "--json", "--no-kernel",
                           "--check", "nr == execve -> action == KILL_PROCESS")
    obj = json.loads(out)
    assert code == 1 and obj["status"] == "findings"
    checks = {x["check"] for x in obj["findings"]}
    assert {"arch-not-checked", "default-allow", "x32-bypass"} <= checks and "property" not in checks
    assert all({"check", "message", "witness"} <= set(x) for x in obj["findings"])
    code, out, _ = run_cli(capsys, "seccomp", "audit", str(f), "--only", "errno-data")
    assert code == 0 and "0 findings" in out


@pytest.mark.parametrize("argv,message", [
    (["seccomp"], "an ACTION is needed"),
    (["seccomp", "explain"], "a policy is needed"),
    (["seccomp", "audit", PROFILE, "--only", "nope"], "unknown check"),
    (["seccomp", "explain", PROFILE, "--arch", "vax"], "unknown architecture"),
    (["seccomp", "compile", "/nonexistent.json"], "cannot read"),
])
def test_usage_errors_are_one_line(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert json.loads(out)["status"] == "error"


def test_a_filter_the_kernel_refuses(tmp_path, capsys):
    f = tmp_path / "bad.asm"
    f.write_text("ldh [0]\nret #0x7fff0000\n")
    code, out, _ = run_cli(capsys, "seccomp", "audit", str(f), "--json", "--no-kernel")
    assert code == 1 and json.loads(out)["findings"][0]["check"] == "kernel-rejects"
    code, out, err = run_cli(capsys, "seccomp", "explain", str(f))
    assert code == 1 and "not allowed in seccomp" in err
