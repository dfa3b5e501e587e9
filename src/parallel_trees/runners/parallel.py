"""``ParallelRunner``: Kedro's, with every worker started, and ready, before the first node.

``kedro run --runner=ParallelRunner`` runs this one (``cli.py`` maps the name);
``--runner=kedro.runner.ParallelRunner`` still runs Kedro's. It differs from
Kedro's in three ways, each measured in docs/performance.md:

- every worker starts with the pool and imports the nodes' modules at once,
  under any start method (Kedro's, under spawn and forkserver, starts one only
  when a task finds none idle, and does not configure the project there);
- nodes hand data to each other through files that every worker maps
  (``handoff``), not through a data manager process;
- a free worker takes the waiting node with the longest chain ahead (``pool``).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework import project
from kedro.io import MemoryDataset, SharedMemoryDataset
from kedro.runner import ParallelRunner as KedroParallelRunner

from parallel_trees.errors import UserError
from parallel_trees.kedro_internals import (
    configure_like_forked,
    disable_plugin_hooks,
    skip_data_manager,
)
from parallel_trees.runners.handoff import SharedFileDataset, shared_data
from parallel_trees.runners.pool import LongestFirstPool, long_chains, worker_hook_manager

if TYPE_CHECKING:
    from kedro.io import SharedMemoryCatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

START_METHODS = ("fork", "spawn", "forkserver")


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
    configure_like_forked(package_name, logging_config)
    # kedro-viz's hooks keep what they record in the process that runs `kedro
    # run` (and do not record ParallelRunner runs there): in a worker they only
    # warn, for every dataset, that they never saw the catalog.
    disable_plugin_hooks("kedro-viz")
    for module in modules:
        importlib.import_module(module)
    worker_hook_manager()


class ParallelRunner(KedroParallelRunner):
    """Kedro's ``ParallelRunner``, whose workers are all ready before its first node runs."""

    _modules: list[str] = []
    _width = 1 << 30  # unknown: as many as the pool may have
    _chains: dict[Node, int] = {}

    def __init__(self, max_workers: int | None = None, is_async: bool = False):
        # Kedro's starts its data manager process here; this one never needs it.
        skip_data_manager(self, max_workers, is_async)
        self._when_started: list[Callable[[], None]] = []

    def when_workers_started(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` in this process once the next run's workers are started.

        From then on the pool forks this process no more (under fork it has started every
        worker; under spawn and forkserver a later one is not forked from here), so a thread
        may import: a fork while a thread imports leaves the child waiting forever on the
        import's lock. A run that ends before its pool starts calls nothing.
        """
        self._when_started.append(callback)

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
        try:
            with shared_data() as folder:
                self._share_through_files(pipeline, catalog, folder)
                super()._run(pipeline, catalog, hook_manager, run_id)
                self._keep_free_outputs(pipeline, catalog)
        finally:
            self._when_started = []  # not called: for this run only

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
        callbacks, self._when_started = self._when_started, []
        for callback in callbacks:
            callback()
        return pool
