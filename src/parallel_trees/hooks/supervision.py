"""Which node each process of a run is running, and a watch over the run's processes.

Neither depends on how ParallelRunner starts its workers (fork, spawn or
forkserver), nor on any state a worker could only inherit by fork:

- ``Journal``: one file per running node, holding the pid of the process that
  runs it, in a folder that any process finds from the run id alone.
- ``Watchdog``: a thread of the main process. Ctrl-C (SIGINT) is blocked in
  the main process before the run starts its workers, and processes inherit
  that mask, whatever their start method: only the watchdog ever takes it.
  It also notices a child process (a worker, or the data manager) that dies.
  Either way it ends the child processes and interrupts the main thread,
  which then raises ``RunStopped``.
"""

import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from types import FrameType

INTERRUPTED = 130  # the exit code of a process ended by Ctrl-C (128 + SIGINT)
# The data manager of Kedro 1.7's ParallelRunner: multiprocessing names a
# manager's process after its class (kedro.runner.parallel_runner).
MANAGER = "ParallelRunnerManager"


class Journal:
    """The nodes of one run that are running now, each with its process id."""

    def __init__(self, run_id: str):
        # The temporary folder, not the project: a worker knows the run id
        # (Kedro gives it to every node hook), not where the project is.
        safe = re.sub(r"[^\w.-]", "_", run_id)
        self.folder = Path(tempfile.gettempdir()) / "parallel-trees-running" / safe

    def start(self, node: str) -> None:
        """This process starts ``node``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / node).write_text(str(os.getpid()))

    def finish(self, node: str) -> None:
        """``node`` has finished (or failed with an exception)."""
        (self.folder / node).unlink(missing_ok=True)

    def running(self) -> dict[str, int]:
        """The nodes started and not finished, with the pid of their process."""
        if not self.folder.is_dir():
            return {}
        return {entry.name: int(entry.read_text() or 0) for entry in self.folder.iterdir()}

    def remove(self) -> None:
        """The run is over: forget it."""
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class Stop:
    """Why a run was stopped early: Ctrl-C, or a child process that died."""

    interrupted: bool
    process: str = ""  # e.g. "a worker process (pid 123)"
    pid: int = 0
    how: str = ""  # e.g. "was killed by SIGKILL"


def _ending(exitcode: int) -> str:
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


def _died(process: multiprocessing.Process) -> Stop:
    kind = "the data manager process" if process.name.startswith(MANAGER) else "a worker process"
    return Stop(False, f"{kind} (pid {process.pid})", process.pid, _ending(process.exitcode))


class RunStopped(Exception):
    """Raised in the main thread when the watchdog stops the run."""

    def __init__(self, stop: Stop):
        super().__init__("interrupted (Ctrl-C)" if stop.interrupted else f"{stop.process} died")
        self.stop = stop


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
        """Block Ctrl-C in this (the main) thread, then start watching from a thread of its own.

        Every thread and process started from here on inherits the block.
        """
        if threading.current_thread() is not threading.main_thread():
            return self  # signals can be handled only in the main thread
        self._main = threading.main_thread().ident
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
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
        if self.stop is None:
            self._look()  # a death the runner noticed first (BrokenProcessPool)
        if signal.SIGINT in signal.sigpending():
            signal.sigwait({signal.SIGINT})  # Ctrl-C during the last moments: taken
            self.stop = self.stop or Stop(True)
        signal.signal(signal.SIGUSR1, self._usr1)
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        return self.stop

    def _watch(self) -> None:
        while not self._closing.is_set():
            sentinels = [p.sentinel for p in self._seen.values()]
            wait(sentinels, self._interval) if sentinels else self._closing.wait(self._interval)
            if signal.SIGINT in signal.sigpending():
                signal.sigwait({signal.SIGINT})
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
        for pid in [pid for pid, p in self._seen.items() if p.exitcode == 0]:
            del self._seen[pid]  # ended as it should (the pool's end)
        dead = [p for p in self._seen.values() if p.exitcode is not None]
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
        if self._armed:
            signal.pthread_kill(self._main, signal.SIGUSR1)

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        """In the main thread: stop the run (once; not after ``close``)."""
        if self._armed and self.stop is not None:
            self._armed = False
            raise RunStopped(self.stop)
