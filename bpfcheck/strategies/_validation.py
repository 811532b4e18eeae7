"""Argument checks that fail at once and quote the bad value with a fix,
and the decorator that gives every public strategy a repr reading like
the call that made it."""

from __future__ import annotations

import difflib

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument


def check_choice(name, value, choices) -> None:
    if value not in choices:
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)], n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        raise InvalidArgument(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}{hint}")


def check_int_range(name, value, lo, hi) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise InvalidArgument(f"{name}={value!r} must be an int in {lo}..{hi}")


def check_bool(name, value) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")


def check_optional_bool(name, value) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True, False or None")


def drawn_by(public_name: str):
    """Make ``fn(draw, **kwargs)`` a composite strategy whose repr is
    ``public_name(kwarg=value, ...)``.

    Hypothesis shows a composite as its function's name and the arguments
    it was called with, so the public function checks its arguments, then
    calls this with only the ones the user gave, as keywords: the repr is
    then the user's own call (``programs(target='pcap', max_len=8)``)."""
    def decorate(fn):
        fn.__name__ = fn.__qualname__ = public_name
        return st.composite(fn)
    return decorate


def given_arguments(**pairs) -> dict:
    """``name=(value, default)`` pairs -> the ones that differ from their
    default, for :func:`drawn_by` strategies' reprs."""
    return {name: value for name, (value, default) in pairs.items() if value is not default
            and value != default}
