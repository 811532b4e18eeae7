"""Seccomp actions: names, the kernel's precedence, and how a verdict reads.

The kernel looks at ``verdict & SECCOMP_RET_ACTION_FULL`` (the action) and
``verdict & SECCOMP_RET_DATA`` (its data).  Between stacked filters the
action compared as a signed 32-bit number decides: the lowest wins, so
KILL_PROCESS (0x80000000, negative) beats everything and ALLOW (0x7fff0000)
loses to everything.  An action the kernel does not know still takes part
in that comparison by its value, and then acts as KILL_PROCESS
(SEMANTICS.md 23).
"""

from __future__ import annotations

import errno as _errno

from .. import isa

ACTION_MASK = isa.SECCOMP_RET_ACTION_FULL
DATA_MASK = isa.SECCOMP_RET_DATA
#: ERRNO data above this is capped by the kernel (MAX_ERRNO)
MAX_ERRNO = 4095

#: the actions the kernel knows, strongest first
KNOWN = (
    ("KILL_PROCESS", isa.SECCOMP_RET_KILL_PROCESS),
    ("KILL_THREAD", isa.SECCOMP_RET_KILL_THREAD),
    ("TRAP", isa.SECCOMP_RET_TRAP),
    ("ERRNO", isa.SECCOMP_RET_ERRNO),
    ("USER_NOTIF", isa.SECCOMP_RET_USER_NOTIF),
    ("TRACE", isa.SECCOMP_RET_TRACE),
    ("LOG", isa.SECCOMP_RET_LOG),
    ("ALLOW", isa.SECCOMP_RET_ALLOW),
)
NAME_OF = {value: name for name, value in KNOWN}
#: actions whose data the kernel uses (the rest ignore it)
_DATA_ACTIONS = {isa.SECCOMP_RET_ERRNO, isa.SECCOMP_RET_TRAP, isa.SECCOMP_RET_TRACE}


def action_of(verdict: int) -> int:
    return verdict & ACTION_MASK


def signed_action(verdict: int) -> int:
    """The key the kernel compares stacked verdicts by: ``(s32)(v & 0xffff0000)``."""
    return isa.signed32(verdict & ACTION_MASK)


def effective(verdict: int) -> int:
    """What the kernel does with ``verdict``, as a verdict: unknown actions
    become KILL_PROCESS, ERRNO data is capped at 4095, and data the action
    ignores is dropped.  Two verdicts with the same effective value are
    indistinguishable to the process."""
    action = verdict & ACTION_MASK
    if action not in NAME_OF:
        return isa.SECCOMP_RET_KILL_PROCESS
    if action not in _DATA_ACTIONS:
        return action
    data = verdict & DATA_MASK
    if action == isa.SECCOMP_RET_ERRNO:
        data = min(data, MAX_ERRNO)
    return action | data


def strength(verdict: int) -> int:
    """Smaller is stronger (more restrictive), by the kernel's own order of
    the effective action."""
    return signed_action(effective(verdict))


def weaker(a: int, b: int) -> bool:
    """Whether verdict ``a`` lets a process do more than verdict ``b``."""
    return strength(a) > strength(b)


def describe(verdict: int) -> str:
    """``ALLOW``, ``ERRNO(EPERM)``, ``TRAP(7)``, ``0x12340000 (acts as KILL_PROCESS)``."""
    action = verdict & ACTION_MASK
    data = verdict & DATA_MASK
    name = NAME_OF.get(action)
    if name is None:
        return f"{verdict:#x} (unknown action: acts as KILL_PROCESS)"
    if action == isa.SECCOMP_RET_ERRNO:
        if data > MAX_ERRNO:
            return f"ERRNO({data}, capped to 4095)"
        return f"ERRNO({_errno.errorcode.get(data, data) if data else 0})"
    if action in _DATA_ACTIONS and data:
        return f"{name}({data})"
    return name


def parse_action(text: str) -> int:
    """``ALLOW``, ``KILL``, ``ERRNO(1)``, ``ERRNO(EPERM)``, ``TRACE(5)`` → verdict."""
    from ..errors import UsageError
    body = text.strip().upper()
    if body.startswith("SCMP_ACT_"):
        body = body[len("SCMP_ACT_"):]
    name, _, rest = body.partition("(")
    data = 0
    if rest:
        arg = rest.rstrip(")").strip()
        if arg.isdigit():
            data = int(arg)
        elif hasattr(_errno, arg):
            data = getattr(_errno, arg)
        else:
            raise UsageError(f"action {text!r}: {arg!r} is neither a number nor an errno name")
    value = isa.SECCOMP_ACTIONS.get(name)
    if value is None:
        raise UsageError(f"unknown seccomp action {text!r} (known: {', '.join(n for n, _ in KNOWN)})")
    if data > DATA_MASK:
        raise UsageError(f"action {text!r}: data {data} does not fit in 16 bits")
    return value | data
