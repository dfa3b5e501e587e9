"""``DaskRunner``: run the pipeline on a ``dask.distributed`` cluster.

``kedro run --runner=parallel_trees.runners.DaskRunner`` starts a local
cluster of worker processes on 127.0.0.1; ``--runner-params address=tls://host:8786``
(or the ``DASK_SCHEDULER_ADDRESS`` environment variable) uses a running one,
with the client certificate given as runner parameters or in Dask's config.
What the nodes log to the console is printed by ``kedro run``, wherever they run.
"""

from __future__ import annotations

import logging
import operator
import socket
import ssl
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import rich.logging
from dask.utils import parse_timedelta
from distributed import Client, LocalCluster, get_worker, wait
from distributed.comm.addressing import parse_address, parse_host_port
from distributed.security import Security
from kedro.framework import project
from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner, Task

from parallel_trees.errors import UserError
from parallel_trees.resources import available_cores

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
# In a worker's thread that runs a node: the Dask topic of the node's run, which its client
# subscribes to. What the node logs to the console goes there (see ToClient).
_run_topic: ContextVar[str | None] = ContextVar("_run_topic", default=None)


def console_handlers() -> dict[str, logging.Handler]:
    """The handlers of this process's logging configuration that print to the terminal, by name.

    Named handlers are those of the logging configuration (``conf/logging.yml``):
    Dask's own handlers have no name.
    """
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {h for lg in loggers if isinstance(lg, logging.Logger) for h in lg.handlers}
    return {
        h.name: h
        for h in handlers
        # A plain StreamHandler writes to a stream, not a file (FileHandler is a subclass).
        if h.name and (isinstance(h, rich.logging.RichHandler) or type(h) is logging.StreamHandler)
    }


class ToClient(logging.Filter):
    """On a worker: send what a console handler is given while a node runs to its run's client.

    The client prints each record with its own handler of the same name
    (``print_forwarded``), so a node's lines appear in the terminal of
    ``kedro run`` and not in the worker's; the worker's other handlers (its
    ``info.log``) keep them too. Records outside a node (Dask's own, between
    tasks) stay on the worker.
    """

    def __init__(self, handler: str):
        super().__init__()
        self._handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        """Send the record to the node's client, if a node logged it; whether to print it here."""
        topic = _run_topic.get()
        if topic is None:
            return True
        get_worker().log_event(topic, [self._handler, _portable(record)])
        return False


def _portable(record: logging.LogRecord) -> dict[str, Any]:
    """The record as plain values (as Dask's ``Client.forward_logging`` sends it)."""
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    attributes = record.__dict__ | {"msg": record.getMessage(), "args": None, "exc_info": None}
    return {
        key: value
        for key, value in attributes.items()
        if key != "message" and (value is None or isinstance(value, str | int | float | bool))
    }


def print_forwarded(handlers: dict[str, logging.Handler], event: tuple[float, Any]) -> None:
    """In ``kedro run``: print a record that a node logged on a worker, with the handler it named.

    Args:
        handlers: This process's console handlers (``console_handlers``).
        event: What Dask delivers for the run's topic: (time, [handler name, record]).
    """
    name, attributes = event[1]
    if name in handlers:
        handlers[name].handle(logging.makeLogRecord(attributes))


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
    token = _run_topic.set(topic)
    try:
        Task(node, catalog, is_async, hook_manager=hook_manager, run_id=run_id).execute()
    finally:
        _run_topic.reset(token)
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
    def _client(self) -> Iterator[Client]:
        if self._address:
            with connect(self._address, self._security, self._timeout) as client:
                yield client
            return
        logger.info("Starting a local Dask cluster of %d workers", self._n_workers)
        with (
            # Quiet the workers' start and stop, as conf/logging.yml does in this process.
            dask.config.set(
                {"distributed.nanny.pre-spawn-environ.DASK_LOGGING__DISTRIBUTED": "warning"}
            ),
            # On the loopback interface only, in plain tcp: see the README on TLS.
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
        with self._client() as client:
            client.subscribe_topic(topic, partial(print_forwarded, console_handlers()))
            try:
                logger.info("Running on the Dask cluster at %s", client.scheduler.address)
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
                self._suggest_resume_scenario(pipeline, state.done, catalog)
                raise
            state.done.add(node)
            self._logger.info("Completed node: %s", node.name)
            self._logger.info("Completed %d out of %d tasks", len(state.done), len(pipeline.nodes))
            state.release_inputs(node)


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


# The client's certificate, in Dask's configuration (and so in its environment variables).
TLS_SETTINGS = {
    "tls_ca_file": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
    "tls_client_cert": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
    "tls_client_key": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY",
}
SCHEMES = ("tls", "tcp")


def client_security(address: str | None, given: dict[str, str]) -> Security | None:
    """The TLS settings of a client of ``address``, checked before any connection.

    Args:
        address: The scheduler's address; ``None`` for a local cluster.
        given: The runner's ``tls_*`` parameters that were given; the others
            come from Dask's configuration.

    Returns:
        The client's ``Security`` for a cluster given by address; ``None`` for a local one.

    Raises:
        UserError: The scheme is not tls or tcp; a tls address without a CA or
            certificate; a file missing or unreadable; certificates for tcp.
    """
    if address is None:
        if given:
            raise UserError(
                f"{', '.join(given)} given without an address: the local Dask cluster "
                "listens on 127.0.0.1 only, without TLS. Give the TLS scheduler's address "
                "too (--runner-params address=tls://<host>:8786,...)."
            )
        return None
    scheme, location = parse_address(address)
    if scheme not in SCHEMES:
        raise UserError(
            f"address = {address}: the scheme must be tls:// (a shared network, with "
            "certificates) or tcp:// (a network only you use)."
        )
    security = Security(**given)
    files = {name: getattr(security, name) for name in TLS_SETTINGS}
    given_files = {name: value for name, value in files.items() if value}
    if scheme == "tcp":
        if given_files:
            raise UserError(
                f"address = {address} is plain tcp, so the certificate settings "
                f"{', '.join(given_files)} (runner parameters, or Dask's configuration) would "
                f"go unused and the connection unencrypted: connect to tls://{location}."
            )
        return security
    missing = [name for name in ("tls_ca_file", "tls_client_cert") if not files[name]]
    if missing:
        raise UserError(
            f"{address} is a TLS scheduler: it needs your certificate ({', '.join(missing)} "
            "not given). Give tls_ca_file, tls_client_cert and tls_client_key with "
            f"--runner-params, or set {', '.join(TLS_SETTINGS.values())} "
            "(kedro dask-certs makes them)."
        )
    for name, value in given_files.items():
        if "\n" not in value and not Path(value).is_file():  # Dask also takes PEM text
            raise UserError(f"{name} = {value}: no such file.")
    try:
        security.get_connection_args("client")  # loads the CA, the certificate and its key
    except (ssl.SSLError, OSError) as error:
        names = ", ".join(f"{name} = {value}" for name, value in given_files.items())
        raise UserError(
            f"The client certificate does not load ({error.strerror or error}): {names}. "
            "Give the CA's certificate, your certificate and its own key, in PEM."
        ) from error
    return security


def connect(address: str, security: Security | None, timeout: float) -> Client:
    """A client of the scheduler at ``address``, which has at least one worker.

    Raises:
        UserError: It cannot connect within ``timeout`` seconds, saying why
            and what to fix; or the scheduler has no worker after as long.
    """
    try:
        client = Client(address, security=security, timeout=timeout)
    # Dask's CommClosedError and SSL errors are OSErrors; tornado raises a ValueError when
    # a plain tcp server speaks before the TLS handshake begins.
    except (OSError, ValueError) as error:
        raise UserError(_why_not_connected(address, error, timeout)) from error
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()
        tls = " --tls-ca-file ca.pem --tls-cert worker.pem --tls-key worker-key.pem"
        start = f"dask worker {address} --nthreads 1{tls if address.startswith('tls') else ''}"
        raise UserError(
            f"The Dask scheduler at {address} has no workers (waited {timeout:g} s). "
            f"Start some ({start}), or wait longer (--runner-params timeout=<seconds>)."
        ) from None
    return client


def _causes(error: BaseException) -> list[BaseException]:
    """The error and the errors that caused it, outermost first.

    Tornado's ``StreamClosedError`` keeps its cause as ``real_error``.
    """
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or getattr(error, "real_error", None) or error.__context__
    return chain


def _refused(location: str) -> bool:
    """Whether ``host:port`` refuses a connection now: nothing listens there.

    (Dask retries refused connections until its timeout, and may then give no cause.)
    """
    try:
        socket.create_connection(parse_host_port(location), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def _why_not_connected(address: str, error: Exception, timeout: float) -> str:
    """What to fix, from how the connection failed (measured with distributed 2026.8)."""
    causes = _causes(error)
    scheme, location = parse_address(address)
    tls = scheme == "tls"
    other = f"{'tcp' if tls else 'tls'}://{location}"

    def seen(kind: type[BaseException]) -> bool:
        return any(isinstance(cause, kind) for cause in causes)

    if seen(ConnectionRefusedError) or _refused(location):
        return (
            f"Nothing listens at {address}: the connection is refused. Start the Dask "
            "scheduler there, or correct the address (--runner-params address=, or "
            "DASK_SCHEDULER_ADDRESS)."
        )
    if seen(ssl.SSLCertVerificationError):
        return (
            f"The Dask scheduler at {address} has a certificate that tls_ca_file's CA did "
            "not sign. Give the cluster's own CA certificate (its ca.pem) as tls_ca_file."
        )
    if any(
        getattr(cause, "reason", None) == "WRONG_VERSION_NUMBER"
        or "cannot convert to SSL" in str(cause)  # tornado: the server spoke first
        for cause in causes
    ):
        return (
            f"The Dask scheduler at {address} does not use TLS: it answered in plain text. "
            f"Start it with --tls-ca-file, --tls-cert and --tls-key (see the README), or, "
            f"on a network only you use, connect to {other}."
        )
    if tls and seen(ssl.SSLEOFError | ConnectionResetError | ssl.SSLError):
        return (
            f"The Dask scheduler at {address} refused your certificate: it trusts only "
            "certificates signed by its own CA (its --tls-ca-file). Use a client "
            "certificate and key signed by that CA (tls_client_cert, tls_client_key)."
        )
    if not tls and seen(ConnectionResetError):
        return (
            f"The Dask scheduler at {address} closed the connection at once, as a TLS "
            f"scheduler does to a plain tcp:// client. Connect to {other} with your "
            "certificate (tls_ca_file, tls_client_cert, tls_client_key)."
        )
    return f"No connection to the Dask scheduler at {address} within {timeout:g} s: {error}"
