"""Processes of a run: the start methods, the run's process group, its journal, signals."""

import functools
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parallel_trees.runners.handoff import shared_data_folders
from tests.helpers.project import ProjectCopy

ALL_START_METHODS = ["fork", "spawn", "forkserver"]
# The start methods a test of workers tries: all three under `make test`; the one of
# KEDRO_MP_CONTEXT when it is set (each of CI's other Pythons runs under one of them).
START_METHODS = (
    [os.environ["KEDRO_MP_CONTEXT"]] if os.environ.get("KEDRO_MP_CONTEXT") else ALL_START_METHODS
)
# The start method of this session's runs (KEDRO_MP_CONTEXT), fork when unset (Linux's default).
METHOD = os.environ.get("KEDRO_MP_CONTEXT", "fork")
# The run ends within 3 s of a fault on an idle machine; more on a busy one.
PROMPT = 10
# The forest alone would train for minutes: long enough to be caught while training,
# and a run that ends within seconds of a fault did not wait for it.
SLOW_FOREST = "random_forest.n_estimators=30000"
# Each of the forest's training nodes trains for minutes with SLOW_FOREST; the run
# is signalled once the first of them is running, whichever it is.
FOREST = "random_forest.fit_model"
FOREST_NODE = r"random_forest\.(?:cross_validate_\d+_of_\d+|fit_model)"
# A node of either model that searches, when the run tunes: an outer fold's, or the fit's.
SEARCHING_NODE = r"\w+\.(?:cross_validate_\d+_of_\d+|fit_model)"


def dead_pid() -> int:
    """The pid of a process that has ended (as a SIGKILLed `kedro run`'s has)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def processes_in_group(group: int) -> list[int]:
    """The live processes of a process group (a run started by ``ProjectCopy.start``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def wait_for_group_to_end(group: int) -> list[int]:
    """The processes of ``group`` still alive 3 s after its main process ended."""
    deadline = time.monotonic() + 3
    while processes_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_in_group(group)


def wait_for_node(journals: Path, run: subprocess.Popen, node: str) -> tuple[str, int]:
    """The first running node whose whole name matches the pattern ``node``, and its
    process's pid, from the run's own journal."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()[0]
        for entry in journals.glob("parallel-trees-running/*/*"):
            text = entry.read_text() if re.fullmatch(node, entry.name) else ""
            if text:
                return entry.name, int(text)
        time.sleep(0.05)
    raise AssertionError(f"{node} never started")


def data_manager(run: subprocess.Popen) -> int:
    """The pid of the run's data manager: Kedro starts it before any other child process
    (the first started, not the lowest pid: pids wrap around on a busy machine)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        pid = int(stat.parent.name)
        # spawn's and forkserver's helpers run multiprocessing.*
        if _parent(stat) == run.pid and _cmdline(pid) and b"multiprocessing." not in _cmdline(pid):
            children.append((_started(stat), pid))
    return min(children)[1]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _started(stat: Path) -> int:
    """When a process started, in clock ticks since boot (its stat's 22nd field)."""
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[19])
    except OSError:  # it ended meanwhile: not the manager of a running run
        return sys.maxsize


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def lost_with(node: str, pid: int) -> str:
    """A pattern of the nodes lost, one matching the pattern ``node`` in process ``pid``
    among them: the other workers may still be running other training nodes."""
    other = r"[\w.]+ \(process \d+\)"
    return rf"(?:{other}, )*{node} \(process {pid}\)(?:, {other})*"


def kill_worker(_: subprocess.Popen, pid: int) -> None:
    """SIGKILL to the worker, as the out-of-memory killer does."""
    os.kill(pid, signal.SIGKILL)


def ctrl_c(run: subprocess.Popen, _: int) -> None:
    """Ctrl-C: the terminal signals the run's whole process group."""
    os.killpg(run.pid, signal.SIGINT)


def kill_int(run: subprocess.Popen, _: int) -> None:
    """``kill -INT`` to the run's main process alone."""
    os.kill(run.pid, signal.SIGINT)


def signalled_run(
    project: ProjectCopy,
    journals: Path,
    send: Callable[[subprocess.Popen, int], None],
    method: str = METHOD,
    params: str = SLOW_FOREST,
    node: str = FOREST_NODE,
    runner: str = "ParallelRunner",
    selection: tuple[str, ...] = (),
    wait: float = 0.5,
) -> dict[str, Any]:
    """A run under ``method``, ``send(run, pid)`` once ``node`` (a pattern) runs in process ``pid``.

    Returns what the run printed, its exit code, the node and its pid, how many seconds
    after ``send`` the run ended, the processes it left, and the files of its shared
    data while the node ran and after the run ended.
    """
    run = project.start(
        "run",
        f"--runner={runner}",
        "--params",
        params,
        *selection,
        env={"KEDRO_MP_CONTEXT": method, "TMPDIR": str(journals)},
    )
    try:
        running, pid = wait_for_node(journals, run, node)
        time.sleep(wait)  # well into its work
        shared = [f.name for folder in shared_data_folders(run.pid) for f in folder.iterdir()]
        sent = time.monotonic()
        send(run, pid)
        output, _ = run.communicate(timeout=120)
        ended = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    left = wait_for_group_to_end(run.pid)
    return {
        "output": output,
        "code": run.returncode,
        "node": running,
        "pid": pid,
        "ended": ended,
        "left": left,
        "shared data": {"running": shared, "after": shared_data_folders(run.pid)},
    }


def in_a_fresh_process(test: Callable) -> Callable:
    """Run the test in a child forked from this process, and fail as it fails.

    The child has one thread, as a ``kedro run``'s main process has, whatever
    threads this one has started (XGBoost's OpenMP and OpenBLAS threads, after the
    in-process runs): a signal sent to the process then reaches its main thread,
    as a test of Ctrl-C means it to. The child is killed after two minutes.
    """

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        read, write = os.pipe()
        with warnings.catch_warnings():  # Python 3.12+: the child runs no other thread's code
            warnings.filterwarnings("ignore", "This process .* multi-threaded", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: report, then exit without pytest's own exit handlers
            os.close(read)
            code = 0
            try:
                signal.alarm(120)
                test(*args, **kwargs)
            except BaseException:  # noqa: BLE001 - reported to the parent, whatever it is
                os.write(write, traceback.format_exc().encode())
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as pipe:
            report = pipe.read()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, report or f"the test's process ended with {code}"

    return run
