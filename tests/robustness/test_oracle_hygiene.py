"""Issue 8, point 4: oracle hygiene.  Every socket, namespace and child
process is closed and reaped; every wait has a timeout; seccomp filters go
only into forked children; a runaway child is killed.

Each test counts this process's open file descriptors and its children
before and after many uses of an oracle (after one warm-up use, which may
load a library or fill a cache once): the counts must not move.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time

import pytest

from bpfcheck import isa
from bpfcheck.context import SeccompData
from bpfcheck.errors import ExecutionError, OracleUnavailable
from bpfcheck.program import Program
from conftest import bpfcheck_env

LINUX = sys.platform.startswith("linux")
X86_64 = LINUX and os.uname().machine == "x86_64"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(not LINUX, reason="the oracles are Linux's")

RET = lambda k: (0x06, 0, 0, k)          # noqa: E731
ALLOW, KILL = isa.SECCOMP_RET_ALLOW, isa.SECCOMP_RET_KILL_PROCESS
ERRNO = 0x00050000


def fds() -> set:
    return {(fd, _target(fd)) for fd in os.listdir("/proc/self/fd")}


def _target(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "?"                          # the listing's own descriptor, gone already


def children() -> set:
    """Every process whose parent is this one (alive or a zombie not reaped)."""
    out = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                out.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return out


def seccomp_mode() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    raise AssertionError("no Seccomp: line in /proc/self/status")


class Unchanged:
    """``with Unchanged("what"):`` — the same descriptors and children after."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        self.fds, self.children = fds(), children()
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is not None:
            return False
        deadline = time.monotonic() + 2.0
        while True:                   # a child may take a moment to be reaped after its kill
            leaked_fds = fds() - self.fds
            leaked_children = children() - self.children
            if not leaked_fds and not leaked_children or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert not leaked_fds, f"{self.what} left descriptors open: {sorted(leaked_fds)}"
        assert not leaked_children, f"{self.what} left child processes: {sorted(leaked_children)}"
        assert seccomp_mode() == 0, f"{self.what} filtered the test process itself"
        return False


# --- the kernel socket oracle -----------------------------------------------------------------
def test_kernel_socket_oracle_closes_every_socket():
    from bpfcheck.oracles import KernelSocket, kernel_accepts, kernel_verdicts
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), RET(0xFFFF), RET(0)])
    rejected = Program([(0x34, 0, 0, 0), RET(0)])                 # div #0
    kernel_verdicts(program, [b"\0" * 14])
    with Unchanged("the AF_UNIX socket oracle"):
        for i in range(40):
            assert kernel_verdicts(program, [b"\0" * 12 + b"\x08\x00", b"\0" * 14]) == [0xFFFF, 0]
            assert kernel_accepts(rejected)[0] is False
            with KernelSocket(program) as ks:
                ks.verdict(b"\0" * i)
        ks = KernelSocket(program)       # forgotten without close: garbage collection closes it
        del ks


def test_differential_oracles_close_what_they_open():
    from bpfcheck.differential import compare, oracle_named
    from bpfcheck.differential.oracles import ReferenceOracle
    from bpfcheck.differential.values import Input
    program = Program([(0x28, 0, 0, 12), (0x15, 0, 1, 0x800), RET(0xFFFF), RET(0)])
    inputs = [Input(b"\0" * 12 + b"\x08\x00"), Input(b"\0" * 3)]
    with Unchanged("the differential kernel oracle"):
        for _ in range(20):
            theirs = oracle_named("kernel", "socket")
            try:
                assert not compare(program, inputs, ReferenceOracle("socket"), theirs).differences
            finally:
                theirs.close()


# --- seccomp ------------------------------------------------------------------------------------
needs_x86_64 = pytest.mark.skipif(not X86_64, reason="the seccomp oracle knows x86-64 only")


@needs_x86_64
def test_seccomp_children_are_reaped_and_the_caller_never_filtered():
    """Filters that let the child exit, kill it, make its exit fail (glibc
    then dies on hlt) and ones the kernel refuses: every child reaped, none
    of it ever in this process."""
    from bpfcheck.oracles import kernel_seccomp_accepts, seccomp_run_via_socket
    assert seccomp_mode() == 0
    programs = [Program([RET(ALLOW)]), Program([RET(KILL)]), Program([RET(ERRNO | 1)]),
                Program([RET(isa.SECCOMP_RET_TRAP)]), Program([(0x20, 0, 0, 200), RET(ALLOW)]),
                Program([(0x28, 0, 0, 0), RET(ALLOW)])]
    kernel_seccomp_accepts(programs[0])
    with Unchanged("the seccomp oracle"):
        for _ in range(4):
            answers = [kernel_seccomp_accepts(p, timeout=5.0)[0] for p in programs]
            assert answers == [True, True, True, True, False, False]
        assert seccomp_run_via_socket(programs[0], [SeccompData(1, 0xC000003E)]) == [ALLOW]


@needs_x86_64
def test_a_child_its_filter_keeps_alive_is_killed_within_the_timeout(monkeypatch):
    """A filter that keeps the child from ever exiting (simulated: the child
    spins instead of installing anything) costs the timeout, not a hang,
    and the child is killed and reaped."""
    from bpfcheck.oracles import seccomp

    def spin(fprog):
        while True:
            pass
    monkeypatch.setattr(seccomp, "_install_and_exit", spin)
    with Unchanged("a runaway seccomp child"):
        started = time.monotonic()
        assert seccomp.kernel_seccomp_accepts(Program([RET(ALLOW)]), timeout=0.3) == (True, 0)
        assert time.monotonic() - started < 2.0


def _parents(tree):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _ancestors(node, parents):
    while node in parents:
        node = parents[node]
        yield node


WORDS = ("SECCOMP_SET_MODE_FILTER", "PR_SET_SECCOMP", "seccomp_load", "SECCOMP_MODE_FILTER", "SYS_SECCOMP")


def test_seccomp_is_installed_only_in_forked_children():
    """The only calls that can install a filter are in one function, and
    that function only ever runs as the body of a forked ``Child``."""
    import bpfcheck
    package = os.path.dirname(bpfcheck.__file__)
    installers = set()
    for directory, _, files in os.walk(package):
        for name in (n for n in files if n.endswith(".py")):
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as f:
                source = f.read()
            if not any(w in source for w in WORDS + ("_install_and_exit",)):
                continue
            tree = ast.parse(source)
            parents = _parents(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and any(word in ast.unparse(node) for word in WORDS):
                    function = next((a.name for a in _ancestors(node, parents) if isinstance(a, ast.FunctionDef)),
                                    None)
                    installers.add((os.path.relpath(path, package), function))
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id == "_install_and_exit" and isinstance(node.ctx, ast.Load):
                    assert any(isinstance(a, ast.Call) and ast.unparse(a.func) == "Child"
                               for a in _ancestors(node, parents)), \
                        f"{path}:{node.lineno}: _install_and_exit used outside a forked Child"
    assert installers == {(os.path.join("oracles", "seccomp.py"), "_install_and_exit")}, installers


# --- the AF_PACKET namespace oracle ------------------------------------------------------------
def test_packet_namespaces_are_closed_and_reaped():
    if os.geteuid() != 0:
        pytest.skip("a private network namespace needs root")
    from bpfcheck.oracles import PacketNamespace
    program = Program([RET(0xFFFF)])
    frame = bytes.fromhex("ffffffffffff020000000001") + b"\x08\x00" + bytes(46)
    try:
        PacketNamespace().close()
    except OracleUnavailable as e:
        pytest.skip(str(e))
    netns = os.readlink("/proc/self/ns/net")
    with Unchanged("the AF_PACKET namespace oracle"):
        for i in range(3):
            with PacketNamespace(timeout=10) as ns:
                assert ns.run(program, [frame])[0]
            ns = PacketNamespace(timeout=10)          # closed by garbage collection only
            del ns
    assert os.readlink("/proc/self/ns/net") == netns, "the test process left its own namespace"


def test_a_namespace_child_that_stops_answering_is_killed():
    if os.geteuid() != 0:
        pytest.skip("a private network namespace needs root")
    from bpfcheck.oracles import PacketNamespace
    try:
        ns = PacketNamespace(timeout=1.0)
    except OracleUnavailable as e:
        pytest.skip(str(e))
    before = children() - {ns._child.pid}
    os.kill(ns._child.pid, signal.SIGSTOP)              # it hangs: every wait must time out
    started = time.monotonic()
    with pytest.raises(OracleUnavailable, match="stopped answering"):
        ns.run(Program([RET(0xFFFF)]), [bytes(60)])
    assert time.monotonic() - started < 5
    ns.close()
    assert children() == before


# --- libpcap ------------------------------------------------------------------------------------
def _libpcap():
    from bpfcheck.oracles import libpcap
    if not libpcap.available():
        pytest.skip("libpcap.so.0.8 is not installed (package libpcap0.8)")
    return libpcap


def test_libpcap_compiles_and_runs_without_leaks():
    libpcap = _libpcap()
    libpcap.compile("tcp port 80")
    with Unchanged("libpcap's compiler and interpreter"):
        for i in range(100):
            p = libpcap.compile(f"tcp port {i + 1} or udp port 53")
            assert libpcap.bpf_filter(p, bytes(60)) == 0
            with pytest.raises(Exception):
                libpcap.compile("tcp port 99999")


def test_a_libpcap_run_that_loops_for_ever_is_killed_within_its_timeout():
    libpcap = _libpcap()
    loop = Program([(0x05, 0, 0, 0xFFFFFFFF), RET(1)])      # ja -1: libpcap spins on it
    assert libpcap.bpf_validate(loop)                      # and bpf_validate lets it through
    with Unchanged("a looping libpcap run"):
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(ExecutionError, match="loops forever"):
                libpcap.bpf_filter(loop, bytes(20), timeout=0.3)
            assert time.monotonic() - started < 2.0
        # many packets, each looping: one child killed and replaced per packet
        out = libpcap.bpf_filter_many(loop, [bytes(4)] * 3, timeout=0.2, errors="return")
        assert all(isinstance(o, ExecutionError) for o in out)


# --- worker processes -------------------------------------------------------------------------
def _group_alive(pgid: int) -> list:
    alive = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(pid))
    return alive


@pytest.mark.parametrize("argv", [
    ["corpus", "run", "corpora", "-j", "2", "-q"],
    ["fuzz", "--time", "60", "-j", "2", "--against", "kernel", "--quiet"],
], ids=["corpus run", "fuzz"])
def test_workers_die_with_a_parent_killed_outright(argv):
    """SIGKILL (or the OOM killer) gives the parent no chance to stop its
    workers: they must not live on, waiting for work for ever."""
    proc = subprocess.Popen([sys.executable, "-m", "bpfcheck", *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=bpfcheck_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(_group_alive(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_group_alive(proc.pid)) >= 3, "the workers never started"
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 5
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "workers outlived their parent"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)


# --- every wait has a timeout ---------------------------------------------------------------------
#: the modules that wait on children, threads, pipes and sockets
WAITING_MODULES = ["oracles", os.path.join("fuzz", "campaign.py"), os.path.join("corpus", "parallel.py"),
                   os.path.join("seccomp", "live.py")]
#: waits without a timeout that cannot hang, each with the reason
NO_TIMEOUT_NEEDED = {
    ("oracles/_fork.py", "os.waitpid(self.pid, 0)"): "right after SIGKILL, which cannot be ignored",
    ("fuzz/campaign.py", "tasks.get()"): "a worker waiting for work; it dies with its parent (PR_SET_PDEATHSIG)",
    ("corpus/parallel.py", "conn.recv()"): "a worker waiting for work (dies with its parent), or the parent "
                                           "reading a result the poll said is there",
    ("corpus/parallel.py", "w.conn.recv()"): "only after wait() and poll() said a message is there",
    ("oracles/_wire.py", "sock.recv_into(view[got:], n - got)"): "the caller's socket has a timeout set "
                                                                  "(PacketNamespace), or it is the namespace "
                                                                  "child's, which dies with its parent",
}
WAIT_CALLS = {"wait", "join", "communicate", "get", "recv", "recv_into", "recvmsg", "accept", "waitpid", "select",
              "read_exact", "flock"}


def _unbounded_waits(rel: str, source: str) -> list:
    out = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in WAIT_CALLS):
            continue
        call = ast.unparse(node)
        if isinstance(node.func.value, ast.Constant) or call.startswith(("os.path.", "str.", "dict.")):
            continue                                    # "".join(...), a dict's get
        kw = {k.arg for k in node.keywords}
        name = node.func.attr
        if name == "get" and len(node.args) == 1:
            continue                                    # a mapping's get(key), not a queue's
        bounded = ("timeout" in kw
                   or name in ("wait", "join", "communicate", "read_exact") and bool(node.args)
                   or name == "get" and len(node.args) >= 2
                   or name == "select" and len(node.args) >= 4
                   or name == "waitpid" and "WNOHANG" in call
                   or name in ("recv", "recv_into", "recvmsg") and any(w in call for w in ("DONTWAIT", "FLAGS",
                                                                                             "flags"))
                   or name == "flock")                  # the corpus lock: held for one file's write
        if not bounded and (rel, call) not in NO_TIMEOUT_NEEDED:
            out.append(f"{rel}:{node.lineno}: {call}")
    return out


def test_the_wait_scan_sees_unbounded_waits():
    snippet = ("proc.join()\nchild.wait()\nq.get()\nos.waitpid(pid, 0)\nsock.recv(4)\n"
               "proc.join(5)\nq.get(timeout=1)\nos.waitpid(pid, os.WNOHANG)\n', '.join(x)\nd.get('k')\n")
    assert [line.split(": ", 1)[1] for line in _unbounded_waits("x.py", snippet)] == [
        "proc.join()", "child.wait()", "q.get()", "os.waitpid(pid, 0)", "sock.recv(4)"]


def test_every_wait_has_a_timeout():
    """A wait on a child, a thread, a queue or a socket without a timeout
    is how a hung oracle becomes a hung bpfcheck: each one either passes a
    timeout (or a non-blocking flag) or is listed with why it cannot hang."""
    import bpfcheck
    package = os.path.dirname(bpfcheck.__file__)
    paths = []
    for entry in WAITING_MODULES:
        full = os.path.join(package, entry)
        paths += [os.path.join(full, n) for n in sorted(os.listdir(full)) if n.endswith(".py")] \
            if os.path.isdir(full) else [full]
    unbounded = []
    for path in paths:
        rel = os.path.relpath(path, package).replace(os.sep, "/")
        with open(path, encoding="utf-8") as f:
            unbounded += _unbounded_waits(rel, f.read())
    assert not unbounded, "waits without a timeout:\n" + "\n".join(unbounded)
