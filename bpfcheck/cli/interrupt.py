"""Ctrl-C during a solver question.

Python runs its SIGINT handler (``KeyboardInterrupt``) only between
bytecodes, and a z3 ``check`` is one C call that can last minutes; z3's
own handler, meanwhile, cancels just that question and the work goes on
with the next.  Here the C-level handler also writes the signal
number to a pipe (:func:`signal.set_wakeup_fd`); a thread blocked on that
pipe asks z3 to stop (``Z3_interrupt``, meant to be called from another
thread), the question returns "canceled", and the pending
``KeyboardInterrupt`` is raised at once — one line, exit 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading


def interruptible(handler):
    """A command's ``handler`` with Ctrl-C stopping a solver question at once."""
    def run(args) -> int:
        with solver_interruptible():
            return handler(args)
    return run


@contextlib.contextmanager
def solver_interruptible():
    """Within this block a SIGINT also cancels the solver question running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import z3
    # z3's own Ctrl-C handling would take the signal from Python while a
    # question runs, cancel that one question, and let the analysis go on
    # to the next: the user's Ctrl-C must stop the command instead.
    z3.set_param("ctrl_c", False)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:          # not the main interpreter
        os.close(read_end)
        os.close(write_end)
        yield
        return
    done = threading.Event()

    def watch():
        while True:
            try:
                data = os.read(read_end, 64)
            except OSError:
                return
            if done.is_set() or not data:
                return
            if signal.SIGINT in data:
                z3.main_ctx().interrupt()

    watcher = threading.Thread(target=watch, name="bpfcheck-ctrl-c", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        signal.set_wakeup_fd(previous)
        with contextlib.suppress(OSError):
            os.write(write_end, b"\0")     # wake the watcher so it can see it is done
        watcher.join(1.0)
        os.close(write_end)
        os.close(read_end)
