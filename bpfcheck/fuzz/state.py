"""The resumable state of a campaign, kept beside its corpus.

``CORPUS/.bpfcheck-fuzz/state.json`` (a hidden directory: ``corpus run``
skips it) holds the seed, the chunk size, the next chunk to hand out, the
chunks started but not finished (with how many of their cases are done
and which process runs them) and running totals.  Chunks are drawn
deterministically from (seed, chunk number), so resuming means: redo the
unfinished chunks of processes that are gone (skipping their done cases),
then go on from the next one.

Every read-modify-write happens under the corpus lock and every write is
atomic, so two campaigns may share a corpus: they share the chunk sequence
(no chunk is run twice) and add to the same totals.  Nothing here is
unpickled or evaluated: the file is JSON, every field checked on reading.
"""

from __future__ import annotations

import json
import os
import random
from typing import Dict, Optional, Tuple

from ..atomic import locked, write_atomic
from .stats import Stats

FORMAT = "bpfcheck-fuzz-state/1"
STATE_DIR = ".bpfcheck-fuzz"


def _alive(pid: int) -> bool:
    if pid <= 0:                 # released by a campaign that stopped cleanly
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class State:
    """Chunk allocation and totals; in memory only when ``corpus`` is None."""

    def __init__(self, corpus: Optional[str]):
        self.corpus = corpus
        self.path = os.path.join(corpus, STATE_DIR, "state.json") if corpus else None
        self.doc: dict = {}
        self.mine: Dict[int, int] = {}           # chunk -> cases done, for chunks this process runs
        self.notes = []

    # --- the file ------------------------------------------------------------------
    def _read(self) -> dict:
        if self.path is None:
            return self.doc
        try:
            with open(self.path, "rb") as f:
                doc = json.loads(f.read(1 << 20).decode("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, UnicodeDecodeError):
            self.notes.append(f"{self.path} was unreadable: starting a new series")
            return {}
        return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else {}

    def _write(self, doc: dict) -> None:
        self.doc = doc
        if self.path is not None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, json.dumps(doc, indent=1, sort_keys=True) + "\n", fsync=False)

    def _locked(self):
        if self.corpus is None:
            import contextlib
            return contextlib.nullcontext()
        os.makedirs(self.corpus, exist_ok=True)
        return locked(self.corpus)

    # --- starting ------------------------------------------------------------------
    def begin(self, seed: Optional[int], chunk_size: int) -> Tuple[int, int, bool]:
        """(seed, chunk size, resumed).  The stored series continues when
        no seed is given or the same one is; another seed starts afresh."""
        with self._locked():
            doc = self._read()
            stored = doc.get("seed")
            resumed = isinstance(stored, int) and (seed is None or seed == stored)
            if not resumed:
                if isinstance(stored, int):
                    self.notes.append(f"a new seed ({seed}) replaces the corpus' series (seed {stored})")
                doc = {"format": FORMAT, "seed": seed if seed is not None else random.getrandbits(48),
                       "chunk_size": chunk_size, "next_chunk": 0, "partial": {}, "totals": {}, "runs": 0}
            doc["runs"] = _int(doc.get("runs")) + 1
            size = _int(doc.get("chunk_size")) or chunk_size
            doc["chunk_size"] = size
            self._write(doc)
            return doc["seed"], size, resumed

    # --- chunks ---------------------------------------------------------------------
    def take(self) -> Optional[Tuple[int, int]]:
        """The next chunk to run, ``(chunk, cases already done)``: an
        abandoned one first, else a new one."""
        with self._locked():
            doc = self._read() or self.doc
            partial = _partial(doc)
            for key, entry in sorted(partial.items(), key=lambda kv: int(kv[0])):
                if not _alive(entry["pid"]):
                    entry["pid"] = os.getpid()
                    self.mine[int(key)] = entry["done"]
                    doc["partial"] = partial
                    self._write(doc)
                    return int(key), entry["done"]
            chunk = _int(doc.get("next_chunk"))
            doc["next_chunk"] = chunk + 1
            partial[str(chunk)] = {"done": 0, "pid": os.getpid()}
            doc["partial"] = partial
            self.mine[chunk] = 0
            self._write(doc)
            return chunk, 0

    def progress(self, chunk: int, done: int) -> None:
        if chunk in self.mine:
            self.mine[chunk] = max(self.mine[chunk], done)

    def finish(self, chunk: int) -> None:
        self.mine.pop(chunk, None)
        with self._locked():
            doc = self._read() or self.doc
            partial = _partial(doc)
            partial.pop(str(chunk), None)
            doc["partial"] = partial
            self._write(doc)

    def save(self, delta: Stats, seconds: float, findings: int, release: bool = False) -> dict:
        """Add this run's new counts to the totals and record the progress
        of its unfinished chunks (``release``: they are left to whoever
        resumes).  Returns the totals."""
        with self._locked():
            doc = self._read() or self.doc
            partial = _partial(doc)
            for chunk, done in self.mine.items():
                partial[str(chunk)] = {"done": done, "pid": 0 if release else os.getpid()}
            doc["partial"] = partial
            totals = Stats.from_dict(doc.get("totals", {}) if isinstance(doc.get("totals"), dict) else {})
            totals.merge(delta)
            t = totals.to_dict()
            old = doc.get("totals", {}) if isinstance(doc.get("totals"), dict) else {}
            t["seconds"] = round(float(old.get("seconds", 0) or 0) + seconds, 3)
            t["findings"] = _int(old.get("findings")) + findings
            doc["totals"] = t
            self._write(doc)
            return t


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _partial(doc: dict) -> Dict[str, dict]:
    raw = doc.get("partial", {})
    out = {}
    if isinstance(raw, dict):
        for key, entry in raw.items():
            if isinstance(key, str) and key.isdigit() and isinstance(entry, dict):
                out[key] = {"done": _int(entry.get("done")), "pid": _int(entry.get("pid"))}
    return out
