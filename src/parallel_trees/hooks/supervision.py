"""A watch over a run's processes, whatever way ParallelRunner starts its workers.

``Watchdog`` is a thread of the main process. Before the run starts any
worker, the main process ignores Ctrl-C (SIGINT): a process inherits that,
whether it is started by fork, spawn or forkserver, so that no worker is
ever interrupted half-way (a spawned one would print a traceback). The
watchdog still sees Ctrl-C (``_CtrlC``), and notices a child process (a
worker, or the data manager) that dies. Either way it stops the run:

- under ParallelRunner, by ending every child process: the pool sees its
  workers die and fails every task, so the runner stops as it does on any
  error, through Kedro's own error path (no exception is thrown into the
  main thread at a point it does not expect, such as a logging call);
- under the other runners, which run the nodes in the main process or wait
  for a cluster, by raising ``RunStopped`` in the main thread, as Ctrl-C
  raises ``KeyboardInterrupt``.
"""

import multiprocessing
import select
import signal
import threading
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from types import FrameType

INTERRUPTED = 130  # the exit code of a process ended by Ctrl-C (128 + SIGINT)
# The data manager of Kedro 1.7's ParallelRunner: multiprocessing names a
# manager's process after its class (kedro.runner.parallel_runner).
MANAGER = "ParallelRunnerManager"


@dataclass(frozen=True)
class Stop:
    """Why a run was stopped early: Ctrl-C, or a child process that died."""

    interrupted: bool
    process: str = ""  # e.g. "a worker process (pid 123)"
    how: str = ""  # e.g. "was killed by SIGKILL"


def _ending(exitcode: int) -> str:
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


def _died(process: multiprocessing.Process) -> Stop:
    kind = "the data manager process" if process.name.startswith(MANAGER) else "a worker process"
    return Stop(False, f"{kind} (pid {process.pid})", _ending(process.exitcode))


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
        self._kqueue = None
        if hasattr(select, "kqueue"):
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
    """Stop a run on Ctrl-C, or when one of its child processes dies.

    Args:
        children: Watch and end the child processes (ParallelRunner's
            workers and data manager). ``False`` for runners whose children
            are not this run's to end (a Dask cluster closes its own).
        interval: Seconds between two looks at the processes.
    """

    def __init__(self, children: bool, interval: float = 0.1):
        self._children = children
        self._interval = interval
        self._seen: dict[int, multiprocessing.Process] = {}
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._armed = False
        self.stop: Stop | None = None

    def start(self) -> "Watchdog":
        """Ignore Ctrl-C from now on, then start watching from a thread of its own.

        Every process started from here on ignores Ctrl-C too.
        """
        if threading.current_thread() is not threading.main_thread():
            return self  # signals can be handled only in the main thread
        self._main = threading.main_thread().ident
        if self._children:
            # Spawn and forkserver start multiprocessing's resource tracker
            # with their first process, and that unblocks SIGINT in the thread
            # that starts it (resource_tracker.ensure_running): start it first.
            resource_tracker.ensure_running()
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self._sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        self._ctrl_c = _CtrlC()
        if not self._children:
            self._usr1 = signal.signal(signal.SIGUSR1, self._raise)
            self._armed = True
        self._thread = threading.Thread(target=self._watch, name="run-watchdog", daemon=True)
        self._thread.start()
        return self

    def close(self) -> Stop | None:
        """Stop watching and restore Ctrl-C; why the run was stopped, if it was."""
        if self._thread is None:
            return self.stop
        self._armed = False
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
        if not self._children:
            signal.signal(signal.SIGUSR1, self._usr1)
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
            if self._look():
                self._halt(self.stop)
                return

    def _look(self) -> bool:
        """Note new child processes; record the first death seen. Whether one died."""
        if not self._children:
            return False
        for process in multiprocessing.active_children():
            self._seen.setdefault(process.pid, process)
        ended = {pid: p.exitcode for pid, p in self._seen.items() if p.exitcode is not None}
        for pid in [pid for pid, code in ended.items() if code == 0]:
            del self._seen[pid]  # ended as it should (the pool's end)
        dead = [self._seen[pid] for pid, code in ended.items() if code != 0]
        if not dead:
            return False
        # When the pool saw the death first, it terminated the other workers
        # (SIGTERM): the one that died otherwise is the cause.
        dead.sort(key=lambda p: p.exitcode == -signal.SIGTERM)
        self.stop = _died(dead[0])
        return True

    def _halt(self, stop: Stop) -> None:
        self.stop = stop
        if self._children:
            for process in multiprocessing.active_children():
                process.kill()  # nothing they do now would be kept
        elif self._armed:
            signal.pthread_kill(self._main, signal.SIGUSR1)

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        """In the main thread: stop the run (once; not after ``close``)."""
        if self._armed and self.stop is not None:
            self._armed = False
            raise RunStopped(self.stop)
