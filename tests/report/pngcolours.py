"""A tiny PNG decoder (zlib only): enough to count a screenshot's colours."""

import os
import struct
import subprocess
import zlib

import pytest


def decode(data: bytes):
    """(width, height, rows of (r, g, b) tuples) for 8-bit RGB/RGBA PNGs."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 2:           # Up, the common case, without a Python loop per byte
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind:
            _unfilter(kind, line, previous, channels)
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, channels)])
        previous = line
    return width, height, rows


def _unfilter(kind, line, previous, channels) -> None:
    for i in range(len(line)):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = previous[i - channels] if i >= channels else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter {kind}")


def colours(data: bytes):
    """The set of distinct (r, g, b) colours of a PNG."""
    _, _, rows = decode(data)
    found = set()
    for row in rows:
        found.update(row)
    return found


def screenshot(chromium: str, url: str, out: str, profile: str, size=(1200, 900)) -> bytes:
    """A headless chromium screenshot of ``url``, as PNG bytes."""
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
           f"--screenshot={out}", url]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip("chromium did not finish a screenshot within 120 s")
    if not os.path.exists(out):
        pytest.skip(f"chromium could not start here (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    with open(out, "rb") as f:
        return f.read()
