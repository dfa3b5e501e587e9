"""The ParallelRunner's process pool: one hook manager per worker, and the longest chain first.

Kedro's runner submits each step's ready nodes, in the order of a set, to a
pool that runs them first come, first served. ``LongestFirstPool`` keeps no
more tasks in flight than it has workers; a free worker takes the waiting node
with the longest chain of ``LONG`` nodes ahead of it (list scheduling's
"longest path first"), so that a fit never waits behind the folds of another.
"""

from __future__ import annotations

import ctypes
import functools
import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from kedro.runner.task import Task

from parallel_trees.kedro_internals import task_hook_manager
from parallel_trees.tags import LONG

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager


@functools.cache
def worker_hook_manager() -> PluginManager:
    """This worker's hook manager, with the project's hooks and the plugins': made once."""
    # Kedro 1.7's Task makes a new one for every task of a parallel run, scanning
    # every installed distribution's entry points each time (kedro/runner/task.py).
    return task_hook_manager()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; ``None`` where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def return_free_memory() -> None:
    """Give the memory that this process has freed back to the system.

    glibc keeps freed blocks of a few MB for reuse (its threshold for giving
    them their own pages grows with the largest one freed): a worker held
    50-100 MB it no longer used after each model's fit at 1e6 rows, beside
    the other worker's next one.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def run_task(task: Task) -> Node:
    """Run a parallel run's ``task`` with this worker's one hook manager, then give what
    it freed back to the system."""
    task.hook_manager, task.parallel = worker_hook_manager(), False
    try:
        return task.execute()
    finally:
        return_free_memory()


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers run Kedro's tasks with a hook manager each, made once."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        if isinstance(fn, Task) and fn.parallel:
            return super().submit(run_task, fn)
        return super().submit(fn, *args, **kwargs)


def long_chains(pipeline: Pipeline) -> dict[Node, int]:
    """For each node, the most ``LONG`` nodes on one path from it to the end, itself included."""
    children: dict[Node, list[Node]] = {node: [] for node in pipeline.nodes}
    for node, parents in pipeline.node_dependencies.items():
        for parent in parents:
            children[parent].append(node)

    @functools.cache
    def chain(node: Node) -> int:
        return (LONG in node.tags) + max(map(chain, children[node]), default=0)

    return {node: chain(node) for node in pipeline.nodes}


class LongestFirstPool(WorkerPool):
    """A process pool that runs no more nodes at once than it has workers, and, when a
    worker frees, the waiting node with the longest chain (``long_chains``) ahead, among
    equals the one submitted last.

    Other tasks (not Kedro's ``Task``) pass straight to the pool, as do failures: a
    node's error, or a broken pool, fails its future as Kedro expects.
    """

    def __init__(self, chains: dict[Node, int], max_workers: int, **kwargs: Any):
        super().__init__(max_workers, **kwargs)
        self._chains, self._free = chains, max_workers
        self._waiting: list[tuple[int, int, Task, Future]] = []  # a heap
        self._order = itertools.count()
        self._lock = threading.Lock()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        if not isinstance(fn, Task):
            return super().submit(fn, *args, **kwargs)
        future: Future = Future()
        with self._lock:
            rank = (-self._chains.get(fn.node, 0), -next(self._order))
            heapq.heappush(self._waiting, (*rank, fn, future))
        self._start_next()
        return future

    def _start_next(self) -> None:
        """Start the first waiting node if a worker is free (from the main thread, or the
        pool's own when a node ends)."""
        with self._lock:
            # A broken pool (a worker died) starts nothing: the run is over, and from
            # Python 3.12 the pool fails its running nodes, and so calls this, holding
            # the lock that submit takes (a deadlock). The waiting nodes are cancelled
            # when Kedro shuts the pool down.
            if not self._free or not self._waiting or self._broken:
                return
            self._free -= 1
            *_, task, future = heapq.heappop(self._waiting)
        if not future.set_running_or_notify_cancel():
            self._finished(None)
            return
        try:
            running = super().submit(task)
        except Exception as error:  # a broken or shut down pool: the node fails with it
            future.set_exception(error)
            self._finished(None)
            return
        running.add_done_callback(lambda done: self._finished(done, future))

    def _finished(self, done: Future | None, future: Future | None = None) -> None:
        """A worker is free: pass on how its node ended, then start the next one."""
        if done is not None and future is not None:
            error = CancelledError() if done.cancelled() else done.exception()
            if error is None:
                future.set_result(done.result())
            else:
                future.set_exception(error)
        with self._lock:
            self._free += 1
        self._start_next()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Nodes still waiting never start once the run stops (Kedro shuts the pool down
        # when a node fails): only those already running finish.
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for *_, future in waiting:
            future.cancel()
        super().shutdown(wait, cancel_futures=cancel_futures)
