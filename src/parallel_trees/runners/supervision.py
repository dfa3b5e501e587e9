"""Ctrl-C, and the death of a run's process, whatever way ParallelRunner starts its workers.

- ``Watchdog`` (ParallelRunner): a thread of the main process. The main process
  ignores Ctrl-C before any worker starts, so that every worker inherits that
  and none is interrupted half-way; the watchdog still sees Ctrl-C, and any
  child (a worker, the data manager) that dies. Either way it ends every child:
  the pool fails every task, and the run stops through Kedro's own error path.
- ``Interrupt`` (the runners that run nodes in the main process, or wait for a
  cluster): Ctrl-C raises ``RunStopped``, an ``Exception``, so that Kedro calls
  the ``on_pipeline_error`` hooks.
"""

import multiprocessing
import os
import select
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from parallel_trees.kedro_internals import is_data_manager

# How long a run whose only dead workers were terminated (SIGTERM) waits to see the
# worker whose death made the pool terminate them (Watchdog._look).
TERMINATED_WAIT = 1.0
# How long the watchdog lets the pool's own thread read a dead process's exit code first.
READER_WAIT = 0.5


@dataclass(frozen=True)
class Stop:
    """Why a run was stopped early: Ctrl-C, or a child process that died."""

    interrupted: bool
    process: str = ""  # e.g. "a worker process (pid 123)"
    how: str = ""  # e.g. "was killed by SIGKILL"


def _children() -> list[BaseProcess]:
    """This process's children, as ``multiprocessing.active_children`` lists them, but
    without polling them (``exit_code`` says why): its registry, read as it is."""
    return list(vars(multiprocessing.process)["_children"])


def exit_code(process: BaseProcess) -> int | None:
    """``process.exitcode``, read so as not to race the process pool's own thread.

    A child started by a forkserver has its exit code sent once, down a pipe, and
    CPython's ``Popen.poll`` reads it without a lock: when two threads poll a process
    that has just died, one reads the code and the other 255, and the 255 may stay
    (Python 3.11 to 3.13, seen under load). The pool's thread polls its dead workers
    at once, so the watchdog reads what it recorded, and polls only if it has not
    within ``READER_WAIT`` (a process the pool does not watch: the data manager).
    """
    popen = vars(process).get("_popen")
    if popen is None:
        return None  # not started
    if popen.returncode is None and not wait([process.sentinel], 0):
        return None  # running
    deadline = time.monotonic() + READER_WAIT
    while popen.returncode is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.exitcode


def _ending(exitcode: int | None) -> str:
    if exitcode is None:  # reaped by another thread at this very moment
        return "ended"
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


def _died(process: BaseProcess) -> Stop:
    kind = "the data manager process" if is_data_manager(process.name) else "a worker process"
    return Stop(False, f"{kind} (pid {process.pid})", _ending(exit_code(process)))


class RunStopped(Exception):
    """Raised in the main thread when the watchdog stops the run."""

    def __init__(self, stop: Stop):
        super().__init__("interrupted (Ctrl-C)" if stop.interrupted else f"{stop.process} died")
        self.stop = stop


class _CtrlC:
    """Whether Ctrl-C came, in a process that blocks and ignores SIGINT.

    Linux keeps a blocked signal pending even when it is ignored; macOS
    drops it, but its kqueue still reports it.
    """

    def __init__(self) -> None:
        self._kqueue: Any = None
        if sys.platform != "linux" and hasattr(select, "kqueue"):  # macOS, the BSDs
            self._kqueue = select.kqueue()
            event = select.kevent(signal.SIGINT, select.KQ_FILTER_SIGNAL, select.KQ_EV_ADD)
            self._kqueue.control([event], 0)

    def came(self) -> bool:
        """Whether Ctrl-C came since the last call (without waiting)."""
        if self._kqueue is not None:
            return bool(self._kqueue.control(None, 1, 0))
        if signal.SIGINT not in signal.sigpending():
            return False
        signal.sigwait({signal.SIGINT})  # take it
        return True

    def close(self) -> None:
        if self._kqueue is not None:
            self._kqueue.close()


class Watchdog:
    """Stop a ParallelRunner run on Ctrl-C, or when one of its child processes dies.

    Args:
        interval: Seconds between two looks at the processes.
    """

    def __init__(self, interval: float = 0.1):
        self._interval = interval
        self._seen: dict[int | None, BaseProcess] = {}
        self._older: set[int | None] = set()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.stop: Stop | None = None

    def start(self) -> "Watchdog":
        """Ignore Ctrl-C from now on, then start watching from a thread of its own.

        Every process started from here on ignores Ctrl-C too.
        """
        if threading.current_thread() is not threading.main_thread():
            return self  # signals can be handled only in the main thread
        # Spawn and forkserver start multiprocessing's resource tracker with
        # their first process, and that unblocks SIGINT in the thread that
        # starts it (resource_tracker.ensure_running): start it first.
        resource_tracker.ensure_running()
        # Children from before the run are not the run's (a notebook's, an earlier
        # run's still ending), but for the data manager, which the runner starts.
        self._older = {
            # (No worker of the run yet, whose pool would poll them: active_children may.)
            p.pid
            for p in multiprocessing.active_children()
            if not is_data_manager(p.name)
        }
        # Blocked in every thread, an ignored signal stays pending (Linux): a
        # thread started before this one would take it and drop it.
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self._sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        _end_blas_threads()
        self._ctrl_c = _CtrlC()
        self._thread = threading.Thread(target=self._watch, name="run-watchdog", daemon=True)
        self._thread.start()
        return self

    def close(self) -> Stop | None:
        """Stop watching and restore Ctrl-C; why the run was stopped, if it was."""
        if self._thread is None:
            return self.stop
        self._closing.set()
        self._thread.join()
        self._thread = None
        if self.stop is None and self._ctrl_c.came():
            self.stop = Stop(True)
        if self.stop is None:
            self._look()  # a death the runner noticed first (BrokenProcessPool)
        self._ctrl_c.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        signal.signal(signal.SIGINT, self._sigint)
        return self.stop

    def _watch(self) -> None:
        while not self._closing.is_set():
            sentinels = [p.sentinel for p in self._seen.values()]
            if sentinels:
                wait(sentinels, self._interval)  # wakes at once when one of them ends
            else:
                self._closing.wait(self._interval)
            if self._ctrl_c.came():
                self._halt(Stop(True))
                return
            if self._look() and self.stop is not None:
                self._halt(self.stop)
                return

    def _look(self) -> bool:
        """Note new child processes; record the first death seen. Whether one died."""
        for process in _children():
            if process.pid not in self._older:
                self._seen.setdefault(process.pid, process)
        dead = self._dead()
        if not dead:
            return False
        # When the pool saw the death first, it terminated the other workers
        # (SIGTERM): the one that died otherwise is the cause. The pool's thread may
        # be reaping that one at this very moment, and while its waitpid holds it,
        # ours fails and its exit code reads None: give it a moment to show.
        deadline = time.monotonic() + TERMINATED_WAIT
        while all(exit_code(p) == -signal.SIGTERM for p in dead) and time.monotonic() < deadline:
            time.sleep(0.01)
            dead = self._dead()
        dead.sort(key=lambda p: exit_code(p) == -signal.SIGTERM)
        self.stop = _died(dead[0])
        return True

    def _dead(self) -> list[BaseProcess]:
        """The watched processes that died; those that ended as they should are forgotten."""
        codes = {pid: exit_code(p) for pid, p in self._seen.items()}
        ended = {pid: code for pid, code in codes.items() if code is not None}
        for pid in [pid for pid, code in ended.items() if code == 0]:
            del self._seen[pid]  # ended as it should (the pool's end)
        return [self._seen[pid] for pid, code in ended.items() if code != 0]

    def _halt(self, stop: Stop) -> None:
        self.stop = stop
        for process in _children():
            if process.pid not in self._older:
                process.kill()  # nothing they do now would be kept (a dead one: no-op)


def _end_blas_threads() -> None:
    """End the threads OpenBLAS started when numpy and scipy were imported.

    They do not block SIGINT, so the kernel would hand Ctrl-C to one of them,
    which drops it, and the watchdog would never see it. OpenBLAS ends its
    threads before a fork (``pthread_atfork``) and starts them again only when
    it computes, which this process does not do during a run: a child that
    exits at once is enough. (Kedro's own ParallelRunner forks its data
    manager, with the same effect; the project's has no manager, and under
    spawn or forkserver the main process forks nothing else.) Python 3.12+ warns
    that a fork of a process with threads may deadlock the child: this child
    runs nothing, so it cannot.
    """
    if hasattr(os, "fork"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "This process .* multi-threaded", DeprecationWarning)
            child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)


class Interrupt:
    """Ctrl-C raises ``RunStopped`` in the main thread, for runners without worker processes."""

    def __init__(self) -> None:
        self._previous: Any = None  # the SIGINT handler before this one
        self.stop: Stop | None = None

    def start(self) -> "Interrupt":
        """Handle Ctrl-C from now on (in the main thread only: signals are handled there)."""
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._raise)
        return self

    def close(self) -> Stop | None:
        """Restore Ctrl-C; ``Stop(True)`` if it came."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return self.stop

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        self.stop = Stop(True)
        if _in_logging(frame):
            # logging would print the exception and swallow it: raise right after.
            main = threading.main_thread().ident
            threading.Timer(0.05, signal.pthread_kill, [main, signal.SIGINT]).start()
            return
        raise RunStopped(self.stop)


def _in_logging(frame: FrameType | None) -> bool:
    """Whether ``frame`` is in a call from the ``logging`` package."""
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("logging"):
            return True
        frame = frame.f_back
    return False
