"""The typed tree a property parses into.  ``type`` is "int" or "bool"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from ..context import FIELD_RANGES

#: names that stand alone: value names and their types
SIMPLE_NAMES = {
    "verdict": "int", "accepted": "bool", "len": "int",
    "nr": "int", "arch": "int", "ip": "int", "action": "int", "data": "int",
}
CONTEXT_FIELDS = tuple(FIELD_RANGES) + ("has_device", "link_header", "network_header")
SECCOMP_NAMES = frozenset({"nr", "arch", "ip", "action", "data"})


class Node:
    type = "int"

    def children(self):
        return ()

    def walk(self):
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Num(Node):
    value: int
    name: Optional[str] = None     # the symbolic name it was written as, if any


@dataclass(frozen=True)
class Bool(Node):
    value: bool
    type = "bool"


@dataclass(frozen=True)
class Name(Node):
    name: str

    @property
    def type(self):
        return SIMPLE_NAMES[self.name]


@dataclass(frozen=True)
class CtxField(Node):
    field: str

    @property
    def type(self):
        return "bool" if self.field == "has_device" else "int"


@dataclass(frozen=True)
class Packet(Node):
    offset: Node
    size: int

    def children(self):
        return (self.offset,)


@dataclass(frozen=True)
class Arg(Node):
    index: int


@dataclass(frozen=True)
class Other(Node):
    field: str

    @property
    def type(self):
        return "bool" if self.field == "accepted" else "int"


@dataclass(frozen=True)
class Reaches(Node):
    pc: int
    column: int = 0
    type = "bool"


@dataclass(frozen=True)
class Matches(Node):
    expr: str
    type = "bool"


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node
    type = "bool"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True)
class InSet(Node):
    value: Node
    members: Tuple[Node, ...]
    type = "bool"

    def children(self):
        return (self.value,) + self.members


@dataclass(frozen=True)
class InRange(Node):
    value: Node
    lo: Node
    hi: Node
    type = "bool"

    def children(self):
        return (self.value, self.lo, self.hi)


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    type = "bool"

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class And(Node):
    left: Node
    right: Node
    type = "bool"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True)
class Or(Node):
    left: Node
    right: Node
    type = "bool"

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True)
class Implies(Node):
    left: Node
    right: Node
    type = "bool"

    def children(self):
        return (self.left, self.right)
