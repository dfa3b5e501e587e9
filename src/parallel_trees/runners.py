"""``DaskRunner``: run the pipeline on a ``dask.distributed`` cluster.

``kedro run --runner=parallel_trees.runners.DaskRunner`` starts a local
cluster of worker processes; ``--runner-params address=tcp://host:8786`` (or
the ``DASK_SCHEDULER_ADDRESS`` environment variable) uses a running one.
"""

from __future__ import annotations

import operator
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

import dask
from distributed import Client, LocalCluster, wait
from kedro.framework import project
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner, Task

if TYPE_CHECKING:
    from distributed import Future
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager


def _is_in_memory(catalog: CatalogProtocol, name: str) -> bool:
    return isinstance(catalog.get(name), MemoryDataset)


# In a worker process: each project's hook manager, made when the project is configured there.
_hook_managers: dict[str, PluginManager] = {}


def configure_worker(package_name: str, logging_config: dict[str, Any]) -> None:
    """Configure the project in this worker process, once, and make its hook manager.

    This imports the project's modules (and so scikit-learn and XGBoost).
    Only the project's own hooks (``settings.HOOKS``) run in the workers:
    plugins' hooks (kedro-viz's dataset statistics...) keep their state in the
    ``kedro run`` process, which a Dask worker does not share.
    """
    if package_name in _hook_managers:
        return
    project.configure_project(package_name)
    project.configure_logging(logging_config)
    # As KedroSession makes its hook manager, less the plugins' entry points: Kedro's
    # private API, written against Kedro 1.7 (check it when upgrading Kedro).
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, project.settings.HOOKS)
    _hook_managers[package_name] = hook_manager


def run_node(
    node: Node,
    catalog: CatalogProtocol,
    inputs: dict[str, Any],
    package_name: str,
    logging_config: dict[str, Any],
    run_id: str | None,
    is_async: bool,
) -> dict[str, Any]:
    """Run one node on a Dask worker, as Kedro's own runners do, with the project's hooks.

    Args:
        node: The node.
        catalog: The run's catalog, copied to the worker: it loads the
            parameters and the persisted datasets, and saves the latter.
        inputs: The node's in-memory inputs, which Dask brought from the
            workers that made them.
        package_name: The Kedro project's package, to configure it in the worker.
        logging_config: The run's logging configuration.
        run_id: The id of the run, for the hooks.
        is_async: Load and save the node's datasets with threads.

    Returns:
        The node's in-memory outputs, by dataset name; they stay on the worker
        until a node that needs them runs.
    """
    configure_worker(package_name, logging_config)  # done already, unless the worker is new
    for name, data in inputs.items():
        catalog.save(name, data)
    hook_manager = _hook_managers[package_name]
    Task(node, catalog, is_async, hook_manager=hook_manager, run_id=run_id).execute()
    return {name: catalog.load(name) for name in node.outputs if _is_in_memory(catalog, name)}


@dataclass
class _RunState:
    """Where a run stands: its nodes to submit, running and done, and its data on the cluster.

    Attributes:
        dependencies: The nodes that each node waits for.
        todo: The nodes not submitted yet.
        load_counts: How many of the nodes not done yet load each dataset.
        in_memory: The datasets that the catalog keeps in memory; those that nodes
            make move between workers as futures.
        outputs: The pipeline's outputs.
        done: The nodes done.
        running: The nodes submitted and not done, by the future of their in-memory outputs.
        data: The future of each in-memory dataset that a node made, by name: Dask
            keeps its value on a worker while the future is held.
    """

    dependencies: dict[Node, set[Node]]
    todo: set[Node]
    load_counts: Counter[str]
    in_memory: set[str]
    outputs: set[str]
    done: set[Node] = field(default_factory=set)
    running: dict[Future, Node] = field(default_factory=dict)
    data: dict[str, Future] = field(default_factory=dict)

    @classmethod
    def start(cls, pipeline: Pipeline, catalog: CatalogProtocol) -> _RunState:
        """The state of a run of ``pipeline`` with ``catalog``, before any node is submitted."""
        return cls(
            dependencies=pipeline.node_dependencies,
            todo=set(pipeline.nodes),
            load_counts=Counter(name for node in pipeline.nodes for name in node.inputs),
            in_memory={name for name in pipeline.datasets() if _is_in_memory(catalog, name)},
            outputs=pipeline.outputs(),
        )

    def take_ready(self) -> list[Node]:
        """Take the nodes whose dependencies are all done out of ``todo``."""
        ready = [node for node in self.todo if self.dependencies[node] <= self.done]
        self.todo.difference_update(ready)
        return ready

    def inputs_of(self, node: Node) -> dict[str, Future]:
        """The futures of the node's in-memory inputs; the worker loads the others itself."""
        return {name: self.data[name] for name in node.inputs if name in self.data}

    def release_inputs(self, node: Node) -> None:
        """Drop the futures of the done node's inputs that no node left to run loads.

        Dask frees a value on its worker once nothing holds its future.
        """
        for name in node.inputs:
            self.load_counts[name] -= 1
            if self.load_counts[name] == 0:
                self.data.pop(name, None)

    def save_outputs(self, catalog: CatalogProtocol) -> None:
        """Save the pipeline's in-memory outputs in ``catalog``, where ``run`` returns them from."""
        for name in self.in_memory & self.outputs:
            catalog.save(name, self.data[name].result())


class DaskRunner(AbstractRunner):
    """Run each node as a Dask task as soon as the nodes it depends on are done.

    Data the catalog keeps in memory moves between nodes as Dask futures, from
    worker to worker. Persisted datasets are saved and loaded by the workers
    through their copy of the catalog, so they must be on storage that every
    worker sees at the same path. A node's failure stops the run with the
    worker's traceback and Kedro's hint on how to resume; the run's remaining
    tasks are cancelled, also on Ctrl-C, and a cluster given by address is
    left running.
    """

    def __init__(
        self, address: str | None = None, n_workers: int | None = None, is_async: bool = False
    ):
        """Instantiate the runner.

        Args:
            address: The scheduler of a running cluster (``tcp://host:8786``);
                defaults to Dask's ``scheduler-address`` setting (the
                ``DASK_SCHEDULER_ADDRESS`` environment variable). Without
                one, the run starts a local cluster and stops it at the end.
            n_workers: Worker processes of the local cluster, one thread each;
                defaults to the number of cores. A running cluster keeps its own.
            is_async: Load and save each node's datasets with threads.
        """
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"n_workers = {n_workers}: a local cluster needs at least 1 worker.")
        super().__init__(is_async=is_async)
        self._address = address or dask.config.get("scheduler-address", None)
        self._n_workers = n_workers or os.cpu_count() or 1
        # Importing distributed set its loggers to INFO: the run's logging
        # configuration (conf/logging.yml) has the last word.
        project.configure_logging(dict(project.LOGGING))

    def _get_executor(self, max_workers: int) -> None:
        """Unused: ``_run`` submits the nodes to Dask itself."""

    @contextmanager
    def _client(self) -> Iterator[Client]:
        if self._address:
            with Client(self._address) as client:
                yield client
            return
        self._logger.info("Starting a local Dask cluster of %d workers", self._n_workers)
        with (
            # Quiet the workers' start and stop, as conf/logging.yml does in this process.
            dask.config.set(
                {"distributed.nanny.pre-spawn-environ.DASK_LOGGING__DISTRIBUTED": "warning"}
            ),
            LocalCluster(
                n_workers=self._n_workers,
                threads_per_worker=1,
                processes=True,
                # Its scheduler serves HTTP whatever this says: on a free port of
                # loopback, not on 8787 (taken by any other cluster: a warning).
                dashboard_address="127.0.0.1:0",
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        """Submit each node once the nodes it depends on are done; wait for all of them.

        Args:
            pipeline: The ``Pipeline`` to run.
            catalog: The catalog of the run.
            hook_manager: Unused: the hooks run in the workers (see ``run_node``).
            run_id: The id of the run.

        Raises:
            Exception: The exception of the first node that failed.
        """
        state = _RunState.start(pipeline, catalog)
        project_args = (project.PACKAGE_NAME, dict(project.LOGGING))
        with self._client() as client:
            try:
                self._logger.info("Running on the Dask cluster at %s", client.scheduler.address)
                # Every worker imports the project now, side by side, rather
                # than when its first node runs: nodes that run together start
                # together, and a worker without the project fails the run now.
                client.run(configure_worker, *project_args)
                while state.todo or state.running:
                    self._submit_ready(client, state, catalog, project_args, run_id)
                    self._collect_finished(state, pipeline, catalog)
                state.save_outputs(catalog)
            except BaseException:  # a node failed, or Ctrl-C: stop the nodes still queued
                # (Their in-memory outputs go with them; the client's closing
                # releases the rest.)
                client.cancel(list(state.running))
                raise

    def _submit_ready(
        self,
        client: Client,
        state: _RunState,
        catalog: CatalogProtocol,
        project_args: tuple[str, dict[str, Any]],
        run_id: str | None,
    ) -> None:
        """Submit the nodes that became ready, and make futures of their in-memory outputs."""
        ready = state.take_ready()
        for node, worker in zip_longest(ready, _least_busy(client, len(ready))):
            outputs = client.submit(
                run_node,
                node,
                catalog,
                state.inputs_of(node),
                *project_args,
                run_id,
                self._is_async,
                key=f"{node.name}-{uuid.uuid4().hex}",
                # A preference, not a pin: should that worker be gone, another runs the node.
                workers=worker,
                allow_other_workers=worker is not None,
            )
            state.running[outputs] = node
            for name in state.in_memory.intersection(node.outputs):
                state.data[name] = client.submit(operator.getitem, outputs, name)

    def _collect_finished(
        self, state: _RunState, pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        """Wait for a running node to finish; mark each finished one done and release its inputs.

        Raises:
            Exception: The exception of a node that failed, after Kedro's hint on resuming.
        """
        finished, _ = wait(list(state.running), return_when="FIRST_COMPLETED")
        for future in finished:
            node = state.running.pop(future)
            try:
                future.result()
            except Exception:
                self._suggest_resume_scenario(pipeline, state.done, catalog)
                raise
            state.done.add(node)
            self._logger.info("Completed node: %s", node.name)
            self._logger.info("Completed %d out of %d tasks", len(state.done), len(pipeline.nodes))
            state.release_inputs(node)


def _least_busy(client: Client, count: int) -> list[str]:
    """Where to run nodes that become ready together: distinct workers, least busy first.

    Dask runs a task where its inputs are, so nodes that share their inputs
    would queue on the one worker that made them; a node ready alone is left
    to Dask.
    """
    if count <= 1:
        return []
    processing = client.processing()
    return sorted(processing, key=lambda worker: len(processing[worker]))[:count]
