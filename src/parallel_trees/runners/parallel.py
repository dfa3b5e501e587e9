"""``ParallelRunner``: Kedro's, with every worker started, and ready, before the first node.

``kedro run --runner=ParallelRunner`` runs this one (the project's ``cli.py``
maps the name); ``--runner=kedro.runner.ParallelRunner`` still runs Kedro's.

Under fork (Linux up to Python 3.13), Python's ``ProcessPoolExecutor`` starts
all its workers with the first task, as copies of the main process. Under
spawn (macOS) and forkserver (Linux from Python 3.14), it starts a worker only
when a task finds none idle, and a new worker spends seconds importing the
project before it runs anything. The worker that split the data was then idle
again when the training nodes were submitted: it ran one model, then the
other, while the second worker was still importing. Here every worker starts
with the pool and imports the pipeline's modules at once, all of them while
the first node runs: as many as the widest step of the pipeline needs (15 for
the default pipeline, whose pool may grow to 24 on a large machine).

Data one node hands to others does not go through Kedro's data manager
process (a ``SyncManager`` that pickles every load and save through a pipe, and
keeps a copy of everything): each in-memory dataset becomes a
``SharedFileDataset``, one file in a folder of this run (``shared_data``) that
every worker maps without a copy. No manager process is started at all.

Kedro's runner submits each step's ready nodes in the order of a set (by
hash) to the pool, which runs them first come, first served: on the
training-dominated workload, a model's ``explain_model`` (seconds of
predictions) became ready after its fit, behind all ten fold nodes, and ran
alone at the end while the other core idled. This runner's pool keeps no more
tasks in flight than it has workers; the others wait in the main process, and
a free worker takes the waiting node with the longest chain of nodes tagged
``LONG`` ahead of it (the training pipeline tags its folds, fits and
explanations): the fits first (a fit, then its explanation), then, among
equals, the node that became ready last (the next node of a branch under way):
list scheduling's classic "longest path first".

Kedro 1.7 also means to configure the project in each spawned or forkserver
worker, but reads the package name there, where it is not set, so it never
does: the project's hooks (``settings.HOOKS``) and logging were missing in
those workers. Each worker of this runner is configured as a forked one is.

Kedro's ``Task`` also makes a new hook manager for every node a worker runs,
scanning every installed package's entry points each time; a worker of this
runner makes one as it starts, and runs every node with it.
"""

from __future__ import annotations

import functools
import heapq
import importlib
import itertools
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework import project
from kedro.io import MemoryDataset, SharedMemoryDataset
from kedro.pipeline import Node
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro.runner.runner import AbstractRunner
from kedro.runner.task import Task

from parallel_trees.datasets import SharedFileDataset
from parallel_trees.errors import UserError
from parallel_trees.resources import alive
from parallel_trees.tags import LONG

if TYPE_CHECKING:
    from kedro.io import SharedMemoryCatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

START_METHODS = ("fork", "spawn", "forkserver")

# A run's folder of shared data: parallel-trees-data-<pid of kedro run>-<unique hex id>.
SHARED_DATA = "parallel-trees-data"


def shared_data_root() -> Path:
    """Where runs keep their shared data: /dev/shm, which is memory, where it is large.

    Elsewhere the temporary folder, whose pages the system caches in memory
    too: macOS has no /dev/shm, and Docker gives a container one of 64 MB,
    too small for a large run's data (Linux makes it half the memory).
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        room = os.statvfs(shm)
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        if room.f_blocks * room.f_frsize >= memory / 4:
            return shm
    return Path(tempfile.gettempdir())


def shared_data_folder(pid: int, unique: str) -> Path:
    """The folder of shared data ``unique`` of the run whose main process is ``pid``.

    With ``unique`` "", the prefix of every folder of that run.
    """
    return shared_data_root() / f"{SHARED_DATA}-{pid}-{unique}"


def shared_data_folders(pid: int | str = "*") -> list[Path]:
    """The folders of shared data of the run whose main process is ``pid`` (default: every run)."""
    pattern = shared_data_folder(pid, "*")
    return sorted(pattern.parent.glob(pattern.name))


@contextmanager
def shared_data() -> Iterator[Path]:
    """A new folder for one run's shared data, deleted when the run ends, however it ends.

    The folders that runs killed before they could delete theirs (their
    process is gone) are deleted first.
    """
    for folder in shared_data_folders():
        pid = folder.name.split("-")[-2]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    folder = shared_data_folder(os.getpid(), uuid.uuid4().hex[:12])
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start_method() -> str | None:
    """The start method ``KEDRO_MP_CONTEXT`` asks for; None for the platform's default."""
    method = os.environ.get("KEDRO_MP_CONTEXT") or None
    if method is not None and method not in START_METHODS:
        # Kedro would silently use the platform's default instead.
        raise UserError(
            f"KEDRO_MP_CONTEXT={method} is not a start method: "
            f"use one of {', '.join(START_METHODS)}, or leave it unset."
        )
    return method


def prepare_worker(
    package_name: str | None, logging_config: dict[str, Any], modules: list[str]
) -> None:
    """Make a new worker process what a forked one is, then import ``modules`` and make its
    hook manager in it."""
    if package_name and project.PACKAGE_NAME is None:  # spawned, or started by a forkserver
        project.configure_project(package_name)
        project.configure_logging(logging_config)
        # Kedro's Task, finding the package name set in a spawned or forkserver
        # worker, would configure the project again for each node, with a logging
        # config that then refers to itself: RecursionError on the worker's
        # second node (Kedro 1.7, kedro/runner/task.py). It is configured once,
        # here, as a forked worker is: the Task need not know the name.
        project.PACKAGE_NAME = None
    # kedro-viz's hooks keep what they record in the process that runs `kedro
    # run` (and do not record ParallelRunner runs there): in a worker they only
    # warn, for every dataset, that they never saw the catalog.
    disabled = project.settings.DISABLE_HOOKS_FOR_PLUGINS
    project.settings.set("DISABLE_HOOKS_FOR_PLUGINS", (*disabled, "kedro-viz"))
    for module in modules:
        importlib.import_module(module)
    worker_hook_manager()


@functools.cache
def worker_hook_manager() -> PluginManager:
    """This worker's hook manager, with the project's hooks and the plugins': made once."""
    # Kedro 1.7's Task makes a new one for every task of a parallel run, scanning
    # every installed distribution's entry points each time (kedro/runner/task.py).
    return Task._run_node_synchronization()


def run_task(task: Task) -> Node:
    """Run a parallel run's ``task`` with this worker's one hook manager."""
    task.hook_manager, task.parallel = worker_hook_manager(), False
    return task.execute()


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


class ParallelRunner(KedroParallelRunner):
    """Kedro's ``ParallelRunner``, whose workers are all ready before its first node runs."""

    _modules: list[str] = []
    _width = 1 << 30  # unknown: as many as the pool may have
    _chains: dict[Node, int] = {}

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        # Kedro's starts its data manager process here; this one never needs it.
        AbstractRunner.__init__(self, is_async=is_async)
        self._max_workers = self._validate_max_workers(max_workers)

    def __del__(self) -> None:
        pass  # Kedro's shuts its data manager down

    def _set_manager_datasets(self, catalog: SharedMemoryCatalogProtocol) -> None:  # type: ignore[override]
        pass  # there is no data manager: see _share_through_files

    @staticmethod
    def _share_through_files(
        pipeline: Pipeline, catalog: SharedMemoryCatalogProtocol, folder: Path
    ) -> None:
        """Make each of the pipeline's in-memory datasets a file of ``folder``.

        Kedro's runner has made the pipeline's datasets, in this process, before
        the run: each task takes these to its worker with the catalog.
        """
        for name in pipeline.datasets():
            if isinstance(catalog.get(name), SharedMemoryDataset):
                catalog[name] = SharedFileDataset(str(folder / name))

    @staticmethod
    def _keep_free_outputs(pipeline: Pipeline, catalog: SharedMemoryCatalogProtocol) -> None:
        """Keep the pipeline's in-memory outputs in memory: the run's folder goes with the run.

        ``runner.run`` returns them, for the caller to load, as Kedro's ParallelRunner does.
        """
        for name in pipeline.outputs():
            if isinstance(catalog.get(name), SharedFileDataset):
                catalog[name] = MemoryDataset(catalog.load(name), copy_mode="assign")

    @property
    def _logger(self) -> logging.Logger:
        # Its progress lines go where Kedro's runner's go (conf/logging.yml), not to the console.
        return logging.getLogger(KedroParallelRunner.__module__)

    def _run(
        self,
        pipeline: Pipeline,
        catalog: SharedMemoryCatalogProtocol,  # type: ignore[override]
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        # The modules every worker imports before it is needed: the nodes' own.
        self._modules = sorted({node.func.__module__ for node in pipeline.nodes})
        # The most nodes that one step of the pipeline can run at once.
        self._width = max((len(group) for group in pipeline.grouped_nodes), default=1)
        self._chains = long_chains(pipeline)
        with shared_data() as folder:
            self._share_through_files(pipeline, catalog, folder)
            super()._run(pipeline, catalog, hook_manager, run_id)
            self._keep_free_outputs(pipeline, catalog)

    def _get_executor(self, max_workers: int) -> LongestFirstPool:
        pool = LongestFirstPool(
            self._chains,
            max_workers=max_workers,
            mp_context=get_context(start_method()),
            initializer=prepare_worker,
            initargs=(project.PACKAGE_NAME, dict(project.LOGGING), self._modules),
        )
        # No worker is idle yet, so each of these tasks starts one more: as many
        # as the widest step of the pipeline can use (Kedro sizes the pool for
        # more, up to a worker per core, and it still grows to that when needed).
        for _ in range(min(max_workers, self._width)):
            pool.submit(os.getpid)
        return pool
