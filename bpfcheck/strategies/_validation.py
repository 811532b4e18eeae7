"""Argument checks that fail at once and quote the bad value with a fix."""

from __future__ import annotations

from hypothesis.errors import InvalidArgument


def check_choice(name, value, choices) -> None:
    if value not in choices:
        raise InvalidArgument(f"{name}={value!r} must be one of {', '.join(map(repr, choices))}")


def check_int_range(name, value, lo, hi) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise InvalidArgument(f"{name}={value!r} must be an int in {lo}..{hi}")
