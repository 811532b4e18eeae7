"""Findings: what disagreed, as a corpus case, written safely.

A :class:`Finding` is one program (and, for a verdict, one input) on which
bpfcheck and a real implementation differ.  :func:`to_case` turns it into
a ``bpfcheck-case/1`` case whose expected answer is the *real
implementation's*, so ``bpfcheck corpus run`` (and pytest) fail on it for
as long as bpfcheck disagrees.

:class:`CorpusWriter` writes case files with :func:`~bpfcheck.atomic.write_atomic`
under the corpus directory's lock (:func:`~bpfcheck.atomic.locked`): two
campaigns sharing a corpus never corrupt or clobber each other's files, and
a file is either whole or absent, whenever the process dies.  A finding is
written the moment it is found, then rewritten in place once shrunk; a
shrunk finding whose signature is already in the corpus is a duplicate and
its file is removed again.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Union

from .. import isa
from ..atomic import locked, write_atomic
from ..corpus.case import Case, PacketCase, ProgramSource, SyscallCase, dump_case, load_case
from ..differential.values import Acceptance, Input, Outcome, show
from ..errors import BpfcheckError, FormatError
from ..program import Program

VERDICT, VALIDATION, FAST_PATH = "verdict", "validation", "fast-path"
FINDINGS_DIR = "findings"


@dataclass
class Finding:
    """``kind``: verdict, validation or fast-path; ``target``: the rules
    bpfcheck applied; ``against``: the other side (kernel, libpcap, or
    the compiled path for a fast-path finding, whose other side is the
    reference VM)."""

    kind: str
    target: str
    against: str
    program: Program
    input: Optional[Input]
    ours: Union[Outcome, Acceptance]
    theirs: Union[Outcome, Acceptance]
    origin: str = ""                 # seed / chunk / case, for the provenance
    shrunk: bool = False
    notes: List[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        """Same program, input and disagreement: the same finding."""
        h = hashlib.blake2b(digest_size=6)
        h.update(f"{self.kind}|{self.target}|{self.against}|".encode())
        h.update(self.program.to_bytes())
        if self.input is not None:
            h.update(self.input.value.to_bytes() if self.input.is_seccomp else self.input.value)
            h.update(repr(self.input.context).encode())
        return h.hexdigest()

    @property
    def opcodes(self) -> List[int]:
        return sorted({code for code, _, _, _ in self.program})

    def describe(self) -> str:
        size = f"{len(self.program)} instruction{'s' if len(self.program) != 1 else ''}"
        if self.kind == VALIDATION:
            return (f"{self.target} validation vs {self.against}, {size}: bpfcheck {self.ours}; "
                    f"{self.against} {self.theirs}")
        who = "the reference VM" if self.kind == FAST_PATH else self.against
        return (f"{self.target} {'fast path' if self.kind == FAST_PATH else 'verdict'} vs {who}, {size}, "
                f"input {self.input.describe()}: bpfcheck {show(self.ours)}, {who} {show(self.theirs)}")

    def to_json(self, path: Optional[str] = None) -> dict:
        from ..differential.values import to_json
        out = {"kind": self.kind, "target": self.target, "against": self.against,
               "instructions": len(self.program), "program": [list(i) for i in self.program],
               "signature": self.signature, "shrunk": self.shrunk, "path": path}
        if self.input is not None:
            out["input"] = self.input.to_json()
        if self.kind == VALIDATION:
            out["bpfcheck"], out[self.against] = str(self.ours), str(self.theirs)
        else:
            out["bpfcheck"], out[self.against] = to_json(self.ours), to_json(self.theirs)
        return out


def program_source(program: Program) -> ProgramSource:
    """The program as inline text: bpf_asm when it carries every field
    exactly, else the ``tcpdump -dd`` C form (which always does)."""
    try:
        return ProgramSource(text=program.format("asm"), format="asm")
    except (FormatError, BpfcheckError):
        return ProgramSource(text=program.format("c"), format="c")


def _expected(theirs: Outcome) -> int:
    # A run with no verdict cannot be written as one; 0 keeps the case
    # failing while bpfcheck gives a verdict (the label says what happened).
    return theirs if isinstance(theirs, int) else 0


def to_case(finding: Finding, path: str) -> Case:
    name = os.path.splitext(os.path.basename(path))[0]
    provenance = {"source": "fuzz", "found": datetime.date.today().isoformat(),
                  "note": finding.describe()[:400], "kind": finding.kind, "against": finding.against,
                  "signature": finding.signature, "opcodes": finding.opcodes}
    if finding.origin:
        provenance["origin"] = finding.origin
    if not finding.shrunk:
        provenance["shrunk"] = False
    description = f"bpfcheck and {finding.against} disagree ({finding.kind}, found by bpfcheck fuzz)"
    common = dict(path=path, name=name, target=finding.target, program=program_source(finding.program),
                  description=description, provenance=provenance)
    if finding.kind == VALIDATION:
        return Case(valid=finding.theirs.accepted, **common)
    inp = finding.input
    label = None if isinstance(finding.theirs, int) else f"{finding.against}: {finding.theirs}"
    if inp.is_seccomp:
        s = inp.value
        return Case(syscalls=(SyscallCase(s.nr, s.arch, _expected(finding.theirs), tuple(s.args),
                                          s.instruction_pointer, label),), **common)
    context, wirelen = {}, None
    if finding.target == "pcap":
        wirelen = inp.wirelen if inp.wirelen != len(inp.value) else None
    elif inp.context is not None:
        context = {k: v for k, v in inp.context.non_default().items() if k != "len"}
        if inp.context.len is not None:
            wirelen = inp.context.len
        if context.get("cpu") and not _reads_cpu(finding.program):
            del context["cpu"]       # the CPU only matters to programs that read it
    return Case(packets=(PacketCase(inp.value, _expected(finding.theirs), label, context, wirelen),), **common)


def _reads_cpu(program: Program) -> bool:
    cpu = isa.SKF_AD_OFF + isa.SKF_AD_CPU
    return any(code & 0xE7 == isa.LD | isa.ABS and k == cpu for code, _, _, k in program)


class CorpusWriter:
    """Writes findings under ``corpus/findings/``; remembers signatures."""

    def __init__(self, corpus: str):
        self.corpus = corpus
        self.directory = os.path.join(corpus, FINDINGS_DIR)

    def bug_classes(self) -> List[Dict[str, object]]:
        """(kind, target, against, opcodes) of every shrunk finding on disk."""
        out = []
        for case in self._cases():
            p = case.provenance
            if p.get("source") == "fuzz" and p.get("shrunk", True) and isinstance(p.get("opcodes"), list):
                out.append({"kind": p.get("kind"), "target": case.target, "against": p.get("against"),
                            "opcodes": frozenset(p["opcodes"])})
        return out

    def _cases(self) -> List[Case]:
        if not os.path.isdir(self.directory):
            return []
        out = []
        for name in sorted(os.listdir(self.directory)):
            if name.endswith(".toml") and not name.startswith("."):
                try:
                    out.append(load_case(os.path.join(self.directory, name)))
                except BpfcheckError:
                    continue      # not ours to judge here; corpus run reports it
        return out

    def path_for(self, finding: Finding) -> str:
        """Named for what it is and its signature: the same finding, the same file."""
        return os.path.join(self.directory, f"fuzz-{finding.target}-{finding.kind}-{finding.against}-"
                                            f"{finding.signature}.toml")

    def record(self, finding: Finding) -> Optional[str]:
        """Write a new finding; None (nothing written) when its signature
        is already in the corpus."""
        return self.replace(None, finding)

    def replace(self, old: Optional[str], finding: Finding) -> Optional[str]:
        """Write ``finding`` (the shrunk form of the one in ``old``) and
        remove ``old``; the new file lands before the old one goes, so a
        kill in between leaves two whole files, never none.  Returns the
        path, or None when the signature was already there (``old`` is
        removed all the same: it is a duplicate)."""
        path = self.path_for(finding)
        with locked(self.corpus):
            os.makedirs(self.directory, exist_ok=True)
            if finding.signature in self._disk_signatures(exclude=old or ""):
                self._unlink(old)
                return None
            write_atomic(path, dump_case(to_case(finding, path)))
            if old is not None and os.path.abspath(old) != os.path.abspath(path):
                self._unlink(old)
            return path

    @staticmethod
    def _unlink(path: Optional[str]) -> None:
        if path is None:
            return
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def _disk_signatures(self, exclude: str) -> Set[str]:
        # Read under the lock, every time: another campaign may have written.
        sigs = set()
        for case in self._cases():
            if os.path.abspath(case.path) != os.path.abspath(exclude):
                sig = case.provenance.get("signature")
                if isinstance(sig, str):
                    sigs.add(sig)
        return sigs
