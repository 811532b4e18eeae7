"""The property language: a tokenizer and a precedence-climbing parser.

A property is one expression, true or false for a single run.  It is
parsed into the small typed tree of :mod:`.ast` — never evaluated as
Python — and type-checked as it is built, so ``verdict and 3`` or
``pkt[12:3]`` are rejected with the column where they go wrong.
"""

from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple

from ..errors import ParseError
from . import ast

MAX_LENGTH = 100_000
MAX_DEPTH = 64    # each level costs a dozen Python frames
#: the deepest tree accepted: a chain ``1 + 1 + ... + 1`` nests its
#: operations without parentheses, and every consumer walks the tree
#: recursively (a couple of frames per level)
MAX_TREE_DEPTH = 256
#: digits of the longest literal worth converting (2**64 has 20 decimal,
#: 16 hex, 22 octal and 64 binary digits)
_MAX_DIGITS = 64


class PropertyError(ParseError):
    """A property that does not parse or does not type-check."""

    def __init__(self, message: str, column: Optional[int] = None, text: str = ""):
        self.column = column
        where = f"column {column}: " if column is not None else ""
        super().__init__(f"property: {where}{message}", line=1, fmt="property")


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>->|<<|>>|<=|>=|==|!=|[-+*/%&|^~<>()\[\]{},.:])
""", re.VERBOSE)

_KEYWORDS = {"and", "or", "not", "in"}


class _Tokens:
    def __init__(self, text: str):
        self.items: List[Tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise PropertyError(f"unexpected character {text[pos]!r}", pos + 1)
            kind = m.lastgroup
            if kind != "ws":
                value = m.group()
                if kind == "name" and value in _KEYWORDS:
                    kind = "op"
                self.items.append((kind, value, pos + 1))
            pos = m.end()
        self.items.append(("end", "", len(text) + 1))
        self.i = 0

    def peek(self):
        return self.items[self.i]

    def next(self):
        tok = self.items[self.i]
        self.i += 1
        return tok

    def accept(self, value: str) -> bool:
        if self.items[self.i][1] == value and self.items[self.i][0] in ("op",):
            self.i += 1
            return True
        return False

    def expect(self, value: str, what: str = ""):
        kind, text, col = self.next()
        if text != value or kind != "op":
            found = "the end" if kind == "end" else repr(text)
            raise PropertyError(f"expected {value!r}{' ' + what if what else ''}, found {found}", col)


# precedence levels for binary integer operators, loosest first
_INT_LEVELS = [("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class Parser:
    def __init__(self, text: str, resolve: Callable[[str], Optional[int]] = lambda name: None):
        if len(text) > MAX_LENGTH:
            raise PropertyError(f"property is {len(text)} characters long (at most {MAX_LENGTH})")
        self.text = text
        self.tokens = _Tokens(text)
        self.resolve = resolve
        self.depth = 0

    def parse(self) -> ast.Node:
        node = self._implication()
        kind, value, col = self.tokens.peek()
        if kind != "end":
            raise PropertyError(f"unexpected {value!r} after a complete property", col)
        _need(node, "bool", self.tokens.items[0][2], "the property must be true or false")
        if _tree_depth(node) > MAX_TREE_DEPTH:
            raise PropertyError(f"more than {MAX_TREE_DEPTH} operations chained into one "
                                "expression; split the property")
        return node

    def _enter(self, col):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PropertyError(f"nested more than {MAX_DEPTH} levels deep", col)

    def _leave(self):
        self.depth -= 1

    # --- boolean layers ----------------------------------------------------
    def _implication(self):
        col = self.tokens.peek()[2]
        self._enter(col)
        left = self._or()
        if self.tokens.accept("->"):
            rcol = self.tokens.peek()[2]
            right = self._implication()
            _need(left, "bool", col, "'->' needs a condition on its left")
            _need(right, "bool", rcol, "'->' needs a condition on its right")
            left = ast.Implies(left, right)
        self._leave()
        return left

    def _or(self):
        col = self.tokens.peek()[2]
        left = self._and()
        while self.tokens.accept("or"):
            rcol = self.tokens.peek()[2]
            right = self._and()
            _need(left, "bool", col, "'or' joins conditions")
            _need(right, "bool", rcol, "'or' joins conditions")
            left = ast.Or(left, right)
        return left

    def _and(self):
        col = self.tokens.peek()[2]
        left = self._not()
        while self.tokens.accept("and"):
            rcol = self.tokens.peek()[2]
            right = self._not()
            _need(left, "bool", col, "'and' joins conditions")
            _need(right, "bool", rcol, "'and' joins conditions")
            left = ast.And(left, right)
        return left

    def _not(self):
        col = self.tokens.peek()[2]
        if self.tokens.accept("not"):
            self._enter(col)
            operand = self._not()
            self._leave()
            _need(operand, "bool", col, "'not' negates a condition")
            return ast.Not(operand)
        return self._comparison()

    def _comparison(self):
        col = self.tokens.peek()[2]
        left = self._int_level(0)
        kind, op, ocol = self.tokens.peek()
        if kind == "op" and op in _COMPARISONS:
            self.tokens.next()
            rcol = self.tokens.peek()[2]
            right = self._int_level(0)
            if op in ("==", "!=") and left.type == right.type == "bool":
                return ast.Compare(op, left, right)    # "if and only if" / "exactly one of"
            _need(left, "int", col, f"'{op}' compares numbers")
            _need(right, "int", rcol, f"'{op}' compares numbers")
            return ast.Compare(op, left, right)
        if kind == "op" and op == "in":
            self.tokens.next()
            _need(left, "int", col, "'in' tests a number")
            return self._membership(left)
        return left

    def _membership(self, left):
        kind, op, col = self.tokens.next()
        if op == "{":
            values = [self._int_expr()]
            while self.tokens.accept(","):
                values.append(self._int_expr())
            self.tokens.expect("}", "to close the set")
            return ast.InSet(left, tuple(values))
        if op == "[":
            lo = self._int_expr()
            self.tokens.expect(",", "between the bounds of a range")
            hi = self._int_expr()
            self.tokens.expect("]", "to close the range")
            return ast.InRange(left, lo, hi)
        raise PropertyError(f"expected '{{' (a set) or '[' (a range) after 'in', found {op!r}", col)

    def _int_expr(self):
        col = self.tokens.peek()[2]
        node = self._int_level(0)
        _need(node, "int", col, "expected a number")
        return node

    # --- integer layers -------------------------------------------------------
    def _int_level(self, level: int):
        if level == len(_INT_LEVELS):
            return self._unary()
        col = self.tokens.peek()[2]
        left = self._int_level(level + 1)
        while True:
            kind, op, ocol = self.tokens.peek()
            if kind != "op" or op not in _INT_LEVELS[level]:
                return left
            self.tokens.next()
            rcol = self.tokens.peek()[2]
            right = self._int_level(level + 1)
            _need(left, "int", col, f"'{op}' works on numbers")
            _need(right, "int", rcol, f"'{op}' works on numbers")
            left = ast.Binary(op, left, right)

    def _unary(self):
        col = self.tokens.peek()[2]
        if self.tokens.accept("~"):
            self._enter(col)
            operand = self._unary()
            self._leave()
            _need(operand, "int", col, "'~' complements a number")
            return ast.Unary("~", operand)
        return self._primary()

    def _primary(self):
        kind, value, col = self.tokens.next()
        if kind == "num":
            number = _number(value, col)
            if number >= 1 << 64:
                raise PropertyError(f"{value} does not fit in 64 bits", col)
            return ast.Num(number)
        if kind == "op" and value == "(":
            node = self._implication()     # counts one level of nesting
            self.tokens.expect(")", "to close '('")
            return node
        if kind == "name":
            return self._named(value, col)
        found = "the end of the property" if kind == "end" else repr(value)
        raise PropertyError(f"expected a value, found {found}", col)

    def _named(self, name: str, col: int):
        if name in ast.SIMPLE_NAMES:
            return ast.Name(name)
        if name in ("true", "false"):
            return ast.Bool(name == "true")
        if name == "pkt":
            return self._packet_access(col)
        if name == "args":
            self.tokens.expect("[", "after 'args'")
            kind, text, icol = self.tokens.next()
            if kind != "num" or not 0 <= _number(text, icol) <= 5:
                raise PropertyError(f"args[I] takes I in 0..5, found {text!r}", icol)
            self.tokens.expect("]", "to close args[")
            return ast.Arg(_number(text, icol))
        if name == "ctx":
            self.tokens.expect(".", "after 'ctx'")
            kind, field, fcol = self.tokens.next()
            if kind != "name" or field not in ast.CONTEXT_FIELDS:
                raise PropertyError(f"ctx.FIELD takes one of {', '.join(ast.CONTEXT_FIELDS)}; "
                                    f"found {field!r}", fcol)
            return ast.CtxField(field)
        if name == "other":
            self.tokens.expect(".", "after 'other'")
            kind, field, fcol = self.tokens.next()
            if field not in ("verdict", "accepted"):
                raise PropertyError(f"other.verdict or other.accepted, found {field!r}", fcol)
            return ast.Other(field)
        if name == "reaches":
            self.tokens.expect("(", "after 'reaches'")
            kind, text, ncol = self.tokens.next()
            if kind != "num":
                raise PropertyError(f"reaches(PC) takes an instruction number, found {text!r}", ncol)
            self.tokens.expect(")", "to close reaches(")
            return ast.Reaches(_number(text, ncol), ncol)
        if name == "matches":
            self.tokens.expect("(", "after 'matches'")
            kind, text, scol = self.tokens.next()
            if kind != "str":
                raise PropertyError(f'matches("EXPR") takes a quoted tcpdump expression, found {text!r}', scol)
            self.tokens.expect(")", "to close matches(")
            return ast.Matches(_unquote(text))
        number = self.resolve(name)
        if number is not None:
            return ast.Num(number, name)
        raise PropertyError(f"unknown name {name!r}", col)

    def _packet_access(self, col: int):
        self.tokens.expect("[", "after 'pkt'")
        offset = self._int_expr()
        size = 1
        if self.tokens.accept(":"):
            kind, text, scol = self.tokens.next()
            if kind != "num" or _number(text, scol) not in (1, 2, 4):
                raise PropertyError(f"pkt[OFF:SIZE] takes SIZE 1, 2 or 4, found {text!r}", scol)
            size = _number(text, scol)
        self.tokens.expect("]", "to close pkt[")
        return ast.Packet(offset, size)


def _number(text: str, col: int) -> int:
    """A ``num`` token's value: decimal, ``0x``, ``0b`` or ``0o``, as in Python.

    Literals too long to fit in 64 bits are not converted (Python refuses
    ints of more than 4,300 digits); they come back as 2**64, which every
    caller rejects as too big.
    """
    digits = text[2:] if text[:2].lower() in ("0x", "0b", "0o") else text
    if len(text) > 1 and text[0] == "0" and digits is text and text.strip("0"):
        raise PropertyError(f"{text} has a leading zero: write decimal without it, "
                            f"or octal as 0o{text.lstrip('0')}", col)
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return 1 << 64
    return int(text, 0)


def _tree_depth(root: ast.Node) -> int:
    """How deep ``root`` nests, counted without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children())
    return deepest


def _unquote(token: str) -> str:
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _need(node: ast.Node, kind: str, col: int, message: str) -> None:
    if node.type != kind:
        got = "a condition" if node.type == "bool" else "a number"
        raise PropertyError(f"{message} (found {got})", col)


def parse_property(text: str, resolve: Callable[[str], Optional[int]] = lambda name: None) -> ast.Node:
    """Parse ``text`` into a typed tree; ``resolve`` maps extra names
    (syscalls, architectures, actions) to numbers."""
    try:
        return Parser(text, resolve).parse()
    except RecursionError:
        raise PropertyError(f"nested more than {MAX_DEPTH} levels deep") from None
