"""``DaskRunner``: run the pipeline on a ``dask.distributed`` cluster.

``kedro run --runner=parallel_trees.runners.DaskRunner`` starts a local
cluster of worker processes on 127.0.0.1; ``--runner-params address=tls://host:8786``
(or the ``DASK_SCHEDULER_ADDRESS`` environment variable) uses a running one,
with the client certificate given as runner parameters or in Dask's config.
What the nodes log to the console is printed by ``kedro run``, wherever they run.
"""

from __future__ import annotations

import logging
import multiprocessing
import operator
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

import dask
from dask.utils import parse_timedelta
from distributed import Client, LocalCluster, wait
from distributed.utils import get_mp_context
from kedro.framework import project
from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner, Task

from parallel_trees.kedro_internals import project_hook_manager, suggest_resume
from parallel_trees.resources import available_cores
from parallel_trees.runners.connection import client_security, connect
from parallel_trees.runners.log_forwarding import (
    ToClient,
    console_handlers,
    print_forwarded,
    run_topic,
)

if TYPE_CHECKING:
    from distributed import Future
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager


def _is_in_memory(catalog: CatalogProtocol, name: str) -> bool:
    return isinstance(catalog.get(name), MemoryDataset)


logger = logging.getLogger(__name__)

# In a worker process: each project's hook manager, made when the project is configured there.
_hook_managers: dict[str, PluginManager] = {}


def configure_worker(package_name: str, logging_config: dict[str, Any]) -> None:
    """Configure the project in this worker process, once, and make its hook manager.

    This imports the project's modules (and so scikit-learn and XGBoost).
    Only the project's own hooks (``settings.HOOKS``) run in the workers:
    plugins' hooks (kedro-viz's dataset statistics...) keep their state in the
    ``kedro run`` process, which a Dask worker does not share. The console
    handlers of the logging configuration send the nodes' records to their run's
    client (``ToClient``).
    """
    if package_name in _hook_managers:
        return
    project.configure_project(package_name)
    project.configure_logging(logging_config)
    for name, handler in console_handlers().items():
        handler.addFilter(ToClient(name))
    _hook_managers[package_name] = project_hook_manager(project.settings.HOOKS)


def run_node(
    node: Node,
    catalog: CatalogProtocol,
    inputs: dict[str, Any],
    package_name: str,
    logging_config: dict[str, Any],
    run_id: str | None,
    is_async: bool,
    topic: str | None,
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
        topic: The Dask topic of the run, where what the node logs to the
            console goes (``ToClient``); ``None``: the worker prints it.

    Returns:
        The node's in-memory outputs, by dataset name; they stay on the worker
        until a node that needs them runs.
    """
    configure_worker(package_name, logging_config)  # done already, unless the worker is new
    for name, data in inputs.items():
        catalog.save(name, data)
    hook_manager = _hook_managers[package_name]
    token = run_topic.set(topic)
    try:
        Task(node, catalog, is_async, hook_manager=hook_manager, run_id=run_id).execute()
    finally:
        run_topic.reset(token)
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
        queued: The nodes ready to run and not yet submitted: they wait here for an
            idle worker thread (``DaskRunner._submit_ready``).
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
    queued: list[Node] = field(default_factory=list)
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
    worker sees at the same path. What the nodes log to the console (the
    report, warnings) is printed here, wherever they run. A node's failure
    stops the run with the worker's error; the run's remaining tasks are
    cancelled, also on Ctrl-C, and a cluster given by address is left running.
    """

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        is_async: bool = False,
        tls_ca_file: str | None = None,
        tls_client_cert: str | None = None,
        tls_client_key: str | None = None,
        timeout: float | None = None,
    ):
        """Instantiate the runner.

        Args:
            address: The scheduler of a running cluster (``tls://host:8786``,
                or ``tcp://`` on a network only you use); defaults to Dask's
                ``scheduler-address`` setting (the ``DASK_SCHEDULER_ADDRESS``
                environment variable). Without one, the run starts a local
                cluster on 127.0.0.1 and stops it at the end.
            n_workers: Worker processes of the local cluster, one thread each;
                defaults to the number of cores. A running cluster keeps its own.
            is_async: Load and save each node's datasets with threads.
            tls_ca_file: The CA that signed the cluster's certificates (PEM),
                for a ``tls://`` address; defaults to Dask's
                ``distributed.comm.tls.ca-file`` setting.
            tls_client_cert: This client's certificate (PEM); defaults to
                ``distributed.comm.tls.client.cert``.
            tls_client_key: Its private key, unless the certificate file holds
                it; defaults to ``distributed.comm.tls.client.key``.
            timeout: Seconds to wait for the scheduler to answer, and then for
                it to have a worker; defaults to Dask's connect timeout
                (``distributed.comm.timeouts.connect``, 30 s).

        Raises:
            UserError: The address or the certificates cannot work.
        """
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"n_workers = {n_workers}: a local cluster needs at least 1 worker.")
        super().__init__(is_async=is_async)
        self._address = address or dask.config.get("scheduler-address", None)
        self._n_workers = n_workers or available_cores()
        given = {"tls_ca_file": tls_ca_file, "tls_client_cert": tls_client_cert}
        given["tls_client_key"] = tls_client_key
        self._security = client_security(
            self._address, {key: value for key, value in given.items() if value is not None}
        )
        self._timeout = timeout or parse_timedelta(
            dask.config.get("distributed.comm.timeouts.connect"), "s"
        )
        # Importing distributed set its loggers to INFO: the run's logging
        # configuration (conf/logging.yml) has the last word.
        project.configure_logging(dict(project.LOGGING))

    @property
    def address(self) -> str | None:
        """The running cluster's scheduler; ``None``: the run starts a local cluster."""
        return self._address

    @property
    def n_workers(self) -> int:
        """The worker processes of the local cluster (one thread each)."""
        return self._n_workers

    @property
    def _logger(self) -> logging.Logger:
        """The logger of Kedro's progress lines ("Completed node", the resume hint).

        Kedro's own runners log them under ``kedro.runner``, which
        ``conf/logging.yml`` sends to ``info.log``: so do these. This runner's
        own lines, for the console, use ``logger``.
        """
        return logging.getLogger(f"kedro.runner.{__name__}")

    def _get_executor(self, max_workers: int) -> None:
        """Unused: ``_run`` submits the nodes to Dask itself."""

    @contextmanager
    def _client(self, modules: Iterable[str] = ()) -> Iterator[Client]:
        """A client of the cluster given by address, or of a local cluster started for the run.

        Args:
            modules: The modules that the local cluster's workers import before
                they start (the nodes' own).
        """
        if self._address:
            with connect(self._address, self._security, self._timeout) as client:
                yield client
            return
        logger.info("Starting a local Dask cluster of %d workers", self._n_workers)
        with (
            dask.config.set(
                # Quiet the workers' start and stop, as conf/logging.yml does in this process.
                {"distributed.nanny.pre-spawn-environ.DASK_LOGGING__DISTRIBUTED": "warning"}
                | preloaded_workers(modules)
            ),
            # On the loopback interface only, in plain tcp: see docs/cluster.md on TLS.
            LocalCluster(
                n_workers=self._n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # Its HTTP server (/health...) runs without the dashboard too: on port
                # 8787, or another with a warning when 8787 is taken. Any free one will do.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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
        # This run's topic: no other run's records, on a shared cluster. (The client's
        # closing ends the subscription.)
        topic = f"parallel-trees-console-{uuid.uuid4().hex}"
        task_args = (*project_args, run_id, self._is_async, topic)
        modules = sorted({node.func.__module__ for node in pipeline.nodes})
        with self._client(modules) as client:
            client.subscribe_topic(topic, partial(print_forwarded, console_handlers()))
            try:
                logger.info("Running on the Dask cluster at %s", client.scheduler_info()["address"])
                # Every worker imports the project now, side by side, rather
                # than when its first node runs: nodes that run together start
                # together, and a worker without the project fails the run now.
                client.run(configure_worker, *project_args)
                while state.todo or state.queued or state.running:
                    self._submit_ready(client, state, catalog, task_args)
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
        task_args: tuple[Any, ...],
    ) -> None:
        """Submit ready nodes, as many as the cluster has idle threads, and make futures
        of their in-memory outputs; the other ready nodes wait in ``state.queued``.

        Dask puts every task it is given in a worker's queue at once, and moves a
        queued task to an idle worker late if ever: a node queued behind a long
        one waited there while the other worker idled (measured with ``make
        bench``: 30 s in a 70 s tuned run). Kept here instead, each node goes to
        the first worker that frees up, as a process pool's tasks do.

        ``task_args`` are ``run_node``'s arguments after the node's inputs.
        """
        state.queued += state.take_ready()
        nthreads = client.nthreads()
        # At least one node when none runs (a cluster with no worker left): Dask
        # holds it until a worker joins, and the loop waits on it rather than spins.
        idle = max(sum(nthreads.values()) - len(state.running), 0 if state.running else 1)
        ready, state.queued = state.queued[:idle], state.queued[idle:]
        if not ready:
            return
        for node, workers in zip_longest(ready, _placements(client, nthreads, len(ready))):
            outputs = client.submit(
                run_node,
                node,
                catalog,
                state.inputs_of(node),
                *task_args,
                key=f"{node.name}-{uuid.uuid4().hex}",
                # A preference, not a pin: should they be gone, another worker runs the node.
                workers=workers,
                allow_other_workers=workers is not None,
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
                suggest_resume(self, pipeline, state.done, catalog)
                raise
            state.done.add(node)
            self._logger.info("Completed node: %s", node.name)
            self._logger.info("Completed %d out of %d tasks", len(state.done), len(pipeline.nodes))
            state.release_inputs(node)


def preloaded_workers(modules: Iterable[str]) -> dict[str, str]:
    """Dask settings that fork a local cluster's workers from a process that has imported
    ``modules``, the project's settings and Dask, rather than spawn each to import them.

    Spawned, each worker imports them itself, all of them at once on the same
    cores, then tears them down at exit: on a small table, most of the run.
    Forked from one forkserver, they are imported once, and the workers exit
    at once. On Linux only: elsewhere Python does not fork a process that has
    imported such libraries (macOS), or cannot (Windows).
    """
    if not sys.platform.startswith("linux"):
        return {}
    method = {"distributed.worker.multiprocessing-method": "forkserver"}
    with dask.config.set(method):
        get_mp_context()  # Dask sets its list of modules once per process: before ours
    package: list[str] = [f"{project.PACKAGE_NAME}.settings"] if project.PACKAGE_NAME else []
    # The forkserver starts with the first worker, once Dask has set the workers'
    # environment variables (distributed.nanny.pre-spawn-environ) in this process.
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["parallel_trees.runners.forkserver", "distributed", __name__, *package, *modules]
    )
    return method


def _placements(client: Client, nthreads: dict[str, int], count: int) -> list[list[str] | None]:
    """Where to run ``count`` nodes that became ready together: workers with a free thread.

    Dask runs a task where its inputs are, even on a busy worker while another
    idles: nodes that share their inputs queued on the one worker that made
    them (under load, CI saw every fold of a run on one worker of two). Nodes
    ready together go to distinct workers, most free threads first; a node
    ready alone goes to any worker with a free thread, and Dask picks among
    them by where its inputs are. ``None``: left to Dask (every worker free,
    or none).
    """
    processing = client.processing()
    free = {worker: nthreads.get(worker, 1) - len(processing[worker]) for worker in processing}
    by_free = sorted(free, key=free.__getitem__, reverse=True)
    if count > 1:
        return [[worker] for worker in by_free[:count]]
    idle = [worker for worker in by_free if free[worker] > 0]
    return [idle if 0 < len(idle) < len(free) else None]
