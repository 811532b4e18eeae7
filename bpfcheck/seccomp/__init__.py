"""Seccomp policies: explain, diff and audit them, compile OCI profiles
through libseccomp, and read the filters of a running process.

    from bpfcheck.seccomp import Policy, explain, diff, audit
    policy = Policy([program])                # or several filters, oldest first
    explain(policy, "x86_64")                 # every syscall's action, proved

Modules: :mod:`.policy` (one filter or a stack, concrete and symbolic),
:mod:`.paths` and :mod:`.conditions` (path conditions and their readable,
provable summaries), :mod:`.explain`, :mod:`.diff`, :mod:`.audit`,
:mod:`.render` (text and HTML), :mod:`.libseccomp` and :mod:`.oci`
(profiles), :mod:`.live` (PTRACE_SECCOMP_GET_FILTER), :mod:`.sources`.
"""

from .._lazy import lazy_getattr
from .policy import Policy, combine

__all__ = ["Policy", "audit", "combine", "compile_profile", "diff", "dump_filters", "explain",
           "explanation_html", "explanation_table", "load_policy"]

_LAZY = {
    "explain": ("explain", "explain"),
    "diff": ("diff", "diff"),
    "audit": ("audit", "audit"),
    "compile_profile": ("oci", "compile_profile"),
    "dump_filters": ("live", "dump_filters"),
    "explanation_html": ("render", "explanation_html"),
    "explanation_table": ("render", "explanation_table"),
    "load_policy": ("sources", "load_policy"),
}


__getattr__ = lazy_getattr(__name__, globals(), _LAZY)
