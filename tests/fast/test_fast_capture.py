"""Streaming a capture through a filter: ``bpfcheck run FILE --pcap F``."""

import io
import json
import struct
import sys

import pytest

from bpfcheck import Context, Program
from bpfcheck import batch
from bpfcheck.capture import context_for_frame
from bpfcheck.capture_run import MAX_LISTED, run_capture
from bpfcheck.cli import main
from bpfcheck.frames import sample_frames
from bpfcheck.pcapio import PcapWriter, read_packets
from bpfcheck.vm import Machine

# tcp port 80 (libpcap's output, IPv4 only), and a filter that reads metadata
TCP80 = Program([(0x28, 0, 0, 12), (0x15, 0, 8, 0x800), (0x30, 0, 0, 23), (0x15, 0, 6, 6),
                 (0x28, 0, 0, 20), (0x45, 4, 0, 0x1FFF), (0xB1, 0, 0, 14), (0x48, 0, 0, 16),
                 (0x15, 0, 1, 80), (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)])
# accept 40 bytes of frames whose skb protocol is IPv4 and that came to this host
META = Program([(0x20, 0, 0, 0xFFFFF000), (0x15, 0, 3, 0x800), (0x20, 0, 0, 0xFFFFF004),
                (0x15, 0, 1, 0), (0x06, 0, 0, 40), (0x06, 0, 0, 0)])


def _capture(path, frames, wire_extra=0):
    with PcapWriter(str(path), linktype="EN10MB") as w:
        for i, f in enumerate(frames):
            w.write(f, len(f) + (wire_extra if i % 3 == 0 else 0), (1000 + i, i * 1000))
    return str(path)


def _pcapng(path, frames):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 0))
    for i, f in enumerate(frames):
        out += block(6, struct.pack("<IIIII", 0, 0, i, len(f), len(f)) + f)
    path.write_bytes(out)
    return str(path)


@pytest.fixture(scope="module")
def frames():
    return sample_frames(seed=0, count=300)


def _vm_verdicts(program, path, target, base=Context()):
    machine = Machine(program, target)
    out = []
    for r in read_packets(path):
        ctx = base.replace(len=r.wirelen) if target == "pcap" else \
            context_for_frame(r.data, r.linktype, r.wirelen, base)
        out.append(machine.run(r.data, ctx))
    return out


@pytest.mark.parametrize("target", ["socket", "pcap"])
@pytest.mark.parametrize("program", [TCP80, META], ids=["tcp80", "metadata"])
def test_streamed_verdicts_are_the_vms(tmp_path, frames, target, program):
    if target == "pcap" and program is META:
        pytest.skip("libpcap has no metadata loads")
    path = _capture(tmp_path / "in.pcap", frames, wire_extra=500)
    want = _vm_verdicts(program, path, target)
    seen = []
    summary = run_capture(program, path, target, chunk=7,
                          on_chunk=lambda d, w, v: seen.extend(int(x) for x in v))
    assert seen == want
    assert summary.verdicts == want and summary.packets == len(frames)
    assert summary.accepted == sum(1 for v in want if v)
    assert sum(summary.histogram.values()) == len(frames)


def test_pcapng_input(tmp_path, frames):
    path = _pcapng(tmp_path / "in.pcapng", frames)
    assert run_capture(TCP80, path).verdicts == _vm_verdicts(TCP80, path, "socket")


def test_without_numpy_the_compiled_path_runs(tmp_path, frames, monkeypatch):
    path = _capture(tmp_path / "in.pcap", frames)
    monkeypatch.setattr(batch, "np", None)
    assert run_capture(META, path, chunk=50).verdicts == _vm_verdicts(META, path, "socket")


def test_write_keeps_the_accepted_packets_trimmed(tmp_path, frames):
    path = _capture(tmp_path / "in.pcap", frames, wire_extra=9)
    out = tmp_path / "out.pcap"
    summary = run_capture(META, path, write=str(out), chunk=64)
    kept = list(read_packets(str(out)))
    originals = [r for r, v in zip(read_packets(path), summary.verdicts) if v]
    assert summary.written == len(kept) == len(originals) > 0
    for got, orig in zip(kept, originals):
        assert got.data == orig.data[:40]
        assert got.wirelen == orig.wirelen and got.timestamp == orig.timestamp


def test_write_for_pcap_keeps_the_snapshot_length(tmp_path, frames):
    path = _capture(tmp_path / "in.pcap", frames)
    out = tmp_path / "out.pcap"
    snap = Program([(0x06, 0, 0, 20)])
    summary = run_capture(snap, path, "pcap", write=str(out))
    kept = list(read_packets(str(out)))
    assert summary.written == sum(1 for f in frames)
    assert [k.data for k in kept] == [f[:20] for f in frames]


def test_cli_counts_histogram_and_json(tmp_path, frames, capsys):
    path = _capture(tmp_path / "in.pcap", frames)
    assert main(["run", "--pcap", path, "-q", "--format", "c", str(_program_file(tmp_path))]) == 0
    text = capsys.readouterr().out
    want = _vm_verdicts(TCP80, path, "socket")
    accepted = sum(1 for v in want if v)
    assert f"{len(frames)} inputs, {accepted} accepted" in text
    assert main(["run", "--pcap", path, "--json", str(_program_file(tmp_path))]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["packets"] == len(frames) and obj["verdicts"] == want
    assert sum(obj["histogram"].values()) == len(frames)


def test_cli_per_packet_lines_and_write(tmp_path, frames, capsys):
    path = _capture(tmp_path / "in.pcap", frames[:5])
    out = tmp_path / "o.pcap"
    assert main(["run", "--pcap", path, "--write", str(out), str(_program_file(tmp_path))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [l.split()[0] for l in lines[:5]] == ["#1", "#2", "#3", "#4", "#5"]
    assert "written to" in lines[-1]
    assert main(["run", "--packet", "00", "--write", str(out), str(_program_file(tmp_path))]) == 2


def test_cli_stops_per_packet_lines_for_big_captures(tmp_path, capsys):
    path = _capture(tmp_path / "big.pcap", [b"\0" * 20] * (MAX_LISTED + 5))
    assert main(["run", "--pcap", path, str(_program_file(tmp_path))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == MAX_LISTED + 2 and lines[MAX_LISTED].startswith("(per-packet lines stop")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("json_output", [False, True])
def test_a_long_capture_shows_progress_on_a_terminal_then_clears_it(tmp_path, monkeypatch, json_output):
    path = _capture(tmp_path / "big.pcap", [b"\0" * 20] * 3000)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    from bpfcheck.cli import live
    monkeypatch.setattr(live.LiveLine, "DELAY", 0.0)
    monkeypatch.setattr(live.LiveLine, "PERIOD", 0.0)
    args = ["run", "--pcap", path, "-q", str(_program_file(tmp_path))] + (["--json"] if json_output else [])
    assert main(args) == 0
    shown = terminal.getvalue()
    if json_output:       # machine-readable runs keep standard error clean
        assert shown == ""
        return
    assert "run: 3,000 packets" in shown and shown.endswith("\r\033[K")
    # not a terminal: nothing at all
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(args) == 0 and sys.stderr.getvalue() == ""


def _program_file(tmp_path):
    f = tmp_path / "prog.c"
    f.write_text(TCP80.format("c"))
    return f


# Loads the capture path reads straight from the reader's buffer: past the
# first 96 bytes, at offsets from X (huge, wrapping), from the network
# header, by the few lanes that reach them, and the wire length.
BUFFER_LOADS = {
    "far": Program([(0x30, 0, 0, 200), (0x16, 0, 0, 0)]),
    "ind-huge": Program([(0x01, 0, 0, 1000), (0x48, 0, 0, 0), (0x16, 0, 0, 0)]),
    "ind-wrap": Program([(0x01, 0, 0, 0xFFFFFFFF), (0x40, 0, 0, 14), (0x16, 0, 0, 0)]),
    "msh": Program([(0xB1, 0, 0, 14), (0x48, 0, 0, 14), (0x16, 0, 0, 0)]),
    "net-relative": Program([(0x20, 0, 0, 0xFFF00000 + 12), (0x16, 0, 0, 0)]),
    "sparse": Program([(0x28, 0, 0, 12), (0x15, 0, 2, 0x806), (0x20, 0, 0, 28),
                       (0x16, 0, 0, 0), (0x06, 0, 0, 0)]),
    "huge-k": Program([(0x20, 0, 0, 0x7FFFFFF0), (0x16, 0, 0, 0)]),
    "len": Program([(0x80, 0, 0, 0), (0x16, 0, 0, 0)]),
}


@pytest.mark.parametrize("target", ["socket", "pcap"])
@pytest.mark.parametrize("name", sorted(BUFFER_LOADS))
def test_loads_from_the_capture_buffer_are_the_vms(tmp_path, frames, target, name):
    program = BUFFER_LOADS[name]
    try:
        batch.run_batch(program, [b""], target=target)
    except Exception:
        pytest.skip(f"{name} is not a valid {target} program")
    path = _capture(tmp_path / "in.pcap", frames, wire_extra=500)
    assert run_capture(program, path, target, chunk=64).verdicts == _vm_verdicts(program, path, target)


def test_on_chunk_sees_the_packets_during_the_call_only(tmp_path, frames):
    path = _capture(tmp_path / "in.pcap", frames)
    seen, kept = [], []

    def on_chunk(datas, wirelens, verdicts):
        seen.extend(datas)
        kept.append(datas)
        assert len(datas) == len(wirelens) == len(verdicts)

    run_capture(TCP80, path, chunk=50, on_chunk=on_chunk)
    assert seen == list(frames)
    with pytest.raises(RuntimeError, match="during the on_chunk call"):
        kept[0][0]
