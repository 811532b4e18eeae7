"""OCI / Docker seccomp profiles (JSON), compiled through libseccomp.

The conversion follows what runc does with ``linux.seccomp`` of an OCI
runtime spec:

* ``defaultAction`` (``defaultErrnoRet``, else EPERM, for ERRNO and TRACE);
* ``architectures`` are added to the native one (Docker's ``archMap`` is
  read for the native architecture when ``architectures`` is absent);
* each entry of ``syscalls`` adds a rule per name (``names``, or the old
  ``name``) with its ``action`` and ``errnoRet``; names libseccomp does not
  know are skipped, and so are rules whose action equals the default (as
  libseccomp refuses them);
* the ``args`` of one entry are ANDed — unless two of them test the same
  argument, in which case each becomes a rule of its own (ORed), as runc
  does; for ``SCMP_CMP_MASKED_EQ`` ``value`` is the mask and ``valueTwo``
  the value.

Docker's ``includes``/``excludes`` are evaluated for x86_64 with Docker's
default capabilities (none of the ones the default profile conditions on).
runc's extra stub that answers ENOSYS for syscalls newer than the profile
is not applied: the filter is exactly libseccomp's.
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass, field
from typing import List, Optional

from .. import isa
from ..errors import BpfcheckError
from ..program import Program
from . import libseccomp
from .libseccomp import ArgCmp, Rule

NATIVE = "x86_64"

_ACTIONS = {
    "SCMP_ACT_KILL": isa.SECCOMP_RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": isa.SECCOMP_RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": isa.SECCOMP_RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": isa.SECCOMP_RET_TRAP,
    "SCMP_ACT_ERRNO": isa.SECCOMP_RET_ERRNO,
    "SCMP_ACT_TRACE": isa.SECCOMP_RET_TRACE,
    "SCMP_ACT_ALLOW": isa.SECCOMP_RET_ALLOW,
    "SCMP_ACT_LOG": isa.SECCOMP_RET_LOG,
    "SCMP_ACT_NOTIFY": isa.SECCOMP_RET_USER_NOTIF,
}
_OPS = {f"SCMP_CMP_{op}": op for op in libseccomp.COMPARE}
_U64 = (1 << 64) - 1
#: distinct rules beyond which a profile cannot become a filter the kernel
#: takes (4096 instructions); libseccomp's cost grows faster than linearly
MAX_RULES = 16384


class ProfileError(BpfcheckError, ValueError):
    """A seccomp profile that is not valid JSON or not a valid profile."""


@dataclass
class Compiled:
    program: Program
    default_action: int
    architectures: List[str]
    rules: List[Rule]
    skipped: List[str] = field(default_factory=list)   # why some entries added nothing


def _action(name, errno_ret, where: str) -> int:
    if not isinstance(name, str) or name not in _ACTIONS:
        raise ProfileError(f"{where}: unknown action {name!r} (known: {', '.join(_ACTIONS)})")
    value = _ACTIONS[name]
    if value in (isa.SECCOMP_RET_ERRNO, isa.SECCOMP_RET_TRACE):
        data = errno.EPERM if errno_ret is None else errno_ret
        if not isinstance(data, int) or isinstance(data, bool) or not 0 <= data <= 0xFFFF:
            raise ProfileError(f"{where}: errnoRet {data!r} is not a number 0..65535")
        value |= data
    return value


def _arg(obj, where: str) -> ArgCmp:
    if not isinstance(obj, dict):
        raise ProfileError(f"{where}: an argument rule must be an object")
    index, op = obj.get("index"), obj.get("op")
    value, two = obj.get("value", 0), obj.get("valueTwo", 0)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 5:
        raise ProfileError(f"{where}: index {index!r} is not 0..5")
    if op not in _OPS:
        raise ProfileError(f"{where}: unknown op {op!r} (known: {', '.join(_OPS)})")
    for name, v in (("value", value), ("valueTwo", two)):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= _U64:
            raise ProfileError(f"{where}: {name} {v!r} is not an unsigned 64-bit number")
    if _OPS[op] == "MASKED_EQ":
        return ArgCmp(index, "MASKED_EQ", two, mask=value)
    return ArgCmp(index, _OPS[op], value)


def _applies(entry: dict, where: str) -> bool:
    """Docker's conditions, for x86_64 and the default capabilities."""
    inc, exc = entry.get("includes") or {}, entry.get("excludes") or {}
    for key, cond in (("includes", inc), ("excludes", exc)):
        if not isinstance(cond, dict):
            raise ProfileError(f"{where}.{key} must be an object such as {{\"arches\": [\"amd64\"]}}")
        arches = cond.get("arches")
        if arches is not None and not (isinstance(arches, list) and all(isinstance(a, str) for a in arches)):
            raise ProfileError(f"{where}.{key}.arches must be a list of architecture names")
    if inc.get("caps") or inc.get("minKernel"):
        return False
    if inc.get("arches") and not {_arch_key(a) for a in inc["arches"]} & {"amd64", "x86_64"}:
        return False
    if exc.get("arches") and {_arch_key(a) for a in exc["arches"]} & {"amd64", "x86_64"}:
        return False
    return True


def _arch_key(name: str) -> str:
    key = str(name).lower()
    return key[len("scmp_arch_"):] if key.startswith("scmp_arch_") else key


def _architectures(profile: dict) -> List[str]:
    arches = profile.get("architectures")
    if arches is None and profile.get("archMap"):
        arch_map = profile["archMap"]
        if not isinstance(arch_map, list) or not all(isinstance(e, dict) for e in arch_map):
            raise ProfileError("archMap must be a list of objects with architecture and subArchitectures")
        for entry in arch_map:
            if _arch_key(entry.get("architecture", "")) == NATIVE:
                arches = [entry["architecture"], *_names_list(entry.get("subArchitectures") or [])]
    if arches is not None and not isinstance(arches, list):
        raise ProfileError("architectures must be a list of names such as SCMP_ARCH_X86_64")
    arches = list(arches or [])
    if not all(isinstance(a, str) for a in arches):
        raise ProfileError("architectures must be a list of names such as SCMP_ARCH_X86_64")
    return arches


def _names_list(value) -> list:
    if not isinstance(value, list):
        raise ProfileError("subArchitectures must be a list of names such as SCMP_ARCH_X86")
    return value


def rules_of(profile: dict) -> Compiled:
    """The default action, architectures and libseccomp rules of a profile
    (without compiling them)."""
    if not isinstance(profile, dict):
        raise ProfileError("a seccomp profile is a JSON object")
    default = _action(profile.get("defaultAction"), profile.get("defaultErrnoRet"), "defaultAction")
    arches = _architectures(profile)
    rules: List[Rule] = []
    skipped: List[str] = []
    entries = profile.get("syscalls") or []
    if not isinstance(entries, list):
        raise ProfileError("syscalls must be a list")
    for i, entry in enumerate(entries):
        where = f"syscalls[{i}]"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where} must be an object")
        if not _applies(entry, where):
            skipped.append(f"{where}: its includes/excludes do not apply to x86_64 with default capabilities")
            continue
        names = entry.get("names") or ([entry["name"]] if "name" in entry else [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ProfileError(f"{where}: names must be a list of system call names")
        action = _action(entry.get("action"), entry.get("errnoRet"), where)
        args = entry.get("args") or []
        if not isinstance(args, list):
            raise ProfileError(f"{where}.args must be a list of argument rules")
        conds = [_arg(a, f"{where}.args[{j}]") for j, a in enumerate(args)]
        if action == default:
            skipped.append(f"{where}: action equals the default ({', '.join(names)})")
            continue
        indexes = [c.arg for c in conds]
        groups = [(c,) for c in conds] if len(set(indexes)) < len(indexes) else [tuple(conds)]
        unknown = []
        for name in dict.fromkeys(names):           # a name listed twice adds nothing
            if libseccomp.syscall_number(name, NATIVE) is None:
                unknown.append(name)
                continue
            for group in groups:
                rules.append(Rule(action, name, group))
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            skipped.append(f"{where}: libseccomp does not know {shown}{more}")
    rules = list(dict.fromkeys(rules))      # a repeated rule adds nothing (libseccomp merges it)
    if len(rules) > MAX_RULES:
        raise ProfileError(f"the profile makes {len(rules)} distinct rules; a seccomp filter holds at "
                           f"most 4096 instructions, at least one per rule (limit {MAX_RULES})")
    return Compiled(Program([]), default, arches, rules, skipped)


def compile_profile(profile: dict, optimize: Optional[int] = None) -> Compiled:
    """The filter runc would install for ``profile``, made by libseccomp."""
    spec = rules_of(profile)
    try:
        with libseccomp.Filter(spec.default_action) as f:
            if optimize is not None:
                f.set_optimize(optimize)
            for arch in spec.architectures:
                f.add_arch(arch)
            for rule in spec.rules:
                try:
                    f.add_rule(rule.action, rule.syscall, rule.args)
                except libseccomp.LibseccompError as e:
                    raise ProfileError(f"{rule.syscall}: {e}") from None
            spec.program = f.export()
    except libseccomp.LibseccompError as e:
        raise ProfileError(str(e)) from None
    return spec


def load_profile(data: bytes | str, name: str = "profile") -> dict:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProfileError(f"{name} is not valid JSON: {e}") from None
    except RecursionError:
        raise ProfileError(f"{name} is not a seccomp profile: JSON nested too deeply") from None


def looks_like_profile(data: bytes) -> bool:
    return data.lstrip()[:1] == b"{"


def compile_file(path: str, optimize: Optional[int] = None) -> Compiled:
    from ..loading import read_source
    return compile_profile(load_profile(read_source(path), path), optimize)
