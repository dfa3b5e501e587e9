"""DaskRunner's parts that need no cluster (the runs themselves: tests/end_to_end/test_dask.py)."""

import io
import json
import logging
import subprocess
import sys
import time
from concurrent.futures import Future

import dask
import pytest
from distributed import Client, LocalCluster
from kedro.framework.project import LOGGING
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.pipeline import node, pipeline
from kedro_datasets.json import JSONDataset

from parallel_trees.errors import UserError
from parallel_trees.runners.connection import client_security
from parallel_trees.runners.dask import DaskRunner, _placements, _RunState, run_node
from parallel_trees.runners.log_forwarding import (
    ToClient,
    _portable,
    console_handlers,
    print_forwarded,
)


def describe(rows: list[int], label: str) -> tuple[int, dict]:
    return len(rows), {"label": label, "total": sum(rows)}


class TestRunNode:
    def test_returns_the_in_memory_outputs_and_saves_the_persisted_ones(self, tmp_path):
        report = tmp_path / "report.json"
        catalog = DataCatalog(
            {
                "rows": MemoryDataset(),
                "count": MemoryDataset(),
                "report": JSONDataset(filepath=str(report)),
                "params:label": MemoryDataset("iris"),
            }
        )
        step = node(describe, ["rows", "params:label"], ["count", "report"], name="describe")

        outputs = run_node(
            step, catalog, {"rows": [1, 2, 3]}, "parallel_trees", dict(LOGGING), None, False, None
        )

        assert outputs == {"count": 3}  # in memory: back to the runner, as Dask data
        assert json.loads(report.read_text()) == {"label": "iris", "total": 6}  # persisted

    def test_a_failing_node_raises_its_own_error(self):
        catalog = DataCatalog({"rows": MemoryDataset(), "params:label": MemoryDataset(7)})
        step = node(describe, ["rows", "params:label"], ["count", "report"], name="describe")
        with pytest.raises(TypeError, match="unsupported operand"):
            run_node(
                step,
                catalog,
                {"rows": [1, "a"]},
                "parallel_trees",
                dict(LOGGING),
                None,
                False,
                None,
            )


class TestDaskRunnerSettings:
    @pytest.mark.parametrize("n_workers", [0, -2])
    def test_a_local_cluster_needs_a_worker(self, n_workers):
        with pytest.raises(ValueError, match=f"n_workers = {n_workers}: a local cluster needs"):
            DaskRunner(n_workers=n_workers)


# In a new process: a forkserver keeps the modules it was first given, and the test
# process may have started one already.
FIRST_IMPORTS = """
import sys
from parallel_trees.runners.dask import DaskRunner
with DaskRunner(n_workers=1)._client(["colorsys"]) as client:
    print("imported in each worker:", set(client.run(lambda: "colorsys" in sys.modules).values()))
"""


@pytest.mark.processes
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="spawned elsewhere")
class TestLocalClusterWorkers:
    def test_they_start_with_the_nodes_modules_imported(self):
        run = subprocess.run(
            [sys.executable, "-c", FIRST_IMPORTS],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert "imported in each worker: {True}" in run.stdout, run.stdout

    def test_their_forkserver_exits_without_tearing_the_libraries_down(self):
        # What the forkserver imported stays, and so does an object of it that would say.
        code = """
import logging, parallel_trees.runners.forkserver
class Module:
    def __del__(self):
        print("torn down")
logging.module = Module()
"""
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert run.returncode == 0, run.stderr
        assert "torn down" not in run.stdout


def tls(folder, **files) -> dict[str, str]:
    """The tls_* runner parameters of the client certificate in ``folder``; ``files`` override."""
    names = {"tls_ca_file": "ca.pem", "tls_client_cert": "client.pem"}
    names["tls_client_key"] = "client-key.pem"
    return {name: str(folder / file) for name, file in names.items()} | files


class TestClientSecurity:
    """The checks of an address and a certificate that need no connection."""

    def test_a_local_cluster_needs_none(self):
        assert client_security(None, {}) is None

    def test_a_tls_address_with_a_certificate_gives_it_to_the_client(self, certificates):
        given = tls(certificates["team"])
        security = client_security("tls://127.0.0.1:8786", given)
        assert security.tls_client_cert == given["tls_client_cert"]
        assert security.get_connection_args("client")["ssl_context"] is not None

    def test_dask_settings_give_what_the_parameters_do_not(self, certificates):
        # (Dask's environment variables set these: tests/end_to_end/test_dask.py runs with them.)
        given = tls(certificates["team"])
        with dask.config.set({"distributed.comm.tls.ca-file": given.pop("tls_ca_file")}):
            security = client_security("tls://127.0.0.1:8786", given)
        assert security.tls_ca_file == str(certificates["team"] / "ca.pem")

    @pytest.mark.parametrize(
        ("address", "given", "message"),
        [
            ("tls://h:8786", {}, "needs your certificate (tls_ca_file, tls_client_cert not given)"),
            ("tcp://h:8786", "team", "is plain tcp, so the certificate settings tls_ca_file, tls_"),
            ("ucx://h:8786", {}, "the scheme must be tls:// (a shared network, with certificates)"),
            (None, "team", "given without an address: the local Dask cluster listens on 127"),
        ],
    )
    def test_an_address_that_does_not_match_the_certificates_is_refused(
        self, certificates, address, given, message
    ):
        given = tls(certificates["team"]) if given == "team" else given
        with pytest.raises(UserError) as refused:
            client_security(address, given)
        assert message in refused.value.message

    def test_a_missing_file_is_named(self, certificates):
        given = tls(certificates["team"], tls_ca_file="/nowhere/ca.pem")
        with pytest.raises(UserError, match="tls_ca_file = /nowhere/ca.pem: no such file"):
            client_security("tls://h:8786", given)

    def test_a_key_that_is_not_the_certificate_s_is_refused(self, certificates):
        stranger_key = str(certificates["stranger"] / "client-key.pem")
        given = tls(certificates["team"], tls_client_key=stranger_key)
        with pytest.raises(UserError, match="The client certificate does not load .*KEY_VALUES"):
            client_security("tls://h:8786", given)


class TestForwardedLogs:
    """A record a node logs on a worker is printed in kedro run by the handler it went to."""

    @pytest.fixture
    def console(self):
        """A logger with a named console handler, as conf/logging.yml makes them."""
        handler = logging.StreamHandler(io.StringIO())
        handler.name = "test-console"
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        file_handler = logging.FileHandler("/dev/null")
        file_handler.name = "test-file"
        node_logger = logging.getLogger("test_runners.node")
        node_logger.handlers = [handler, file_handler]
        yield handler
        node_logger.handlers = []
        file_handler.close()

    def test_only_the_named_handlers_that_print_to_the_terminal_forward(self, console):
        handlers = console_handlers()
        assert handlers["test-console"] is console
        assert "test-file" not in handlers

    def test_a_record_is_printed_by_the_handler_of_the_same_name_as_the_node_made_it(self, console):
        try:
            raise ValueError("bad")
        except ValueError:
            record = logging.LogRecord(
                "test_runners.node", logging.WARNING, __file__, 1, "%d rows of %s", (3, "iris"),
                sys.exc_info(),
            )  # fmt: skip
        # What Dask carries: msgpack turns the pair into a list.
        print_forwarded(console_handlers(), (0.0, ["test-console", _portable(record)]))
        printed = console.stream.getvalue()
        assert printed.startswith("WARNING test_runners.node: 3 rows of iris\n")
        assert "ValueError: bad" in printed  # the worker's traceback, as text

    def test_outside_a_node_a_worker_prints_its_records_itself(self):
        record = logging.LogRecord("distributed.worker", logging.INFO, __file__, 1, "hi", (), None)
        assert ToClient("results").filter(record) is True


def noop(*args):  # the nodes of TestRunState never run
    return None


# Two nodes share "rows"; "table" and "report" are persisted, the rest is in memory.
PIPELINE = pipeline(
    [
        node(noop, "raw", ["rows", "table"], name="prepare"),
        node(noop, "rows", "count", name="count"),
        node(noop, ["rows", "table", "params:scale"], "total", name="total"),
        node(noop, ["count", "total"], ["summary", "report"], name="summarise"),
    ]
)
NODES = {step.name: step for step in PIPELINE.nodes}


def value(data) -> Future:
    """A finished future of ``data``: what the run gets from Dask, without a cluster."""
    future = Future()
    future.set_result(data)
    return future


class TestRunState:
    @pytest.fixture
    def catalog(self, tmp_path) -> DataCatalog:
        return DataCatalog(
            {
                **{name: MemoryDataset() for name in ("raw", "rows", "count", "total", "summary")},
                "table": JSONDataset(filepath=str(tmp_path / "table.json")),
                "report": JSONDataset(filepath=str(tmp_path / "report.json")),
                "params:scale": MemoryDataset(2),
            }
        )

    @pytest.fixture
    def state(self, catalog) -> _RunState:
        return _RunState.start(PIPELINE, catalog)

    def test_only_the_datasets_the_catalog_keeps_in_memory_move_as_futures(self, state):
        assert {"rows", "count", "total", "summary"} <= state.in_memory
        assert not {"table", "report"} & state.in_memory

    def test_the_nodes_with_nothing_to_wait_for_are_ready_first_and_taken_once(self, state):
        assert state.take_ready() == [NODES["prepare"]]
        assert NODES["prepare"] not in state.todo
        assert state.take_ready() == []  # not done yet, and not given twice

    def test_a_node_is_ready_once_all_the_nodes_it_waits_for_are_done(self, state):
        state.take_ready()
        state.done.add(NODES["prepare"])
        assert set(state.take_ready()) == {NODES["count"], NODES["total"]}
        state.done.add(NODES["count"])
        assert state.take_ready() == []  # summarise still waits for total
        state.done.add(NODES["total"])
        assert state.take_ready() == [NODES["summarise"]]
        assert not state.todo

    def test_a_node_is_given_its_in_memory_inputs_and_loads_the_others_itself(self, state):
        rows = state.data["rows"] = value([1, 2])
        # "table" is persisted, "params:scale" is in the worker's copy of the catalog.
        assert state.inputs_of(NODES["total"]) == {"rows": rows}

    def test_a_dataset_is_released_when_the_last_node_that_loads_it_is_done(self, state):
        state.data |= {"rows": value([1, 2]), "count": value(2)}
        state.release_inputs(NODES["count"])
        assert "rows" in state.data  # total loads it too
        state.release_inputs(NODES["total"])
        assert "rows" not in state.data
        assert "count" in state.data  # summarise has yet to load it

    def test_once_every_node_is_done_only_the_pipeline_outputs_are_held(self, state):
        state.data |= {name: value(name) for name in ("rows", "count", "total", "summary")}
        for name in ("prepare", "count", "total", "summarise"):
            state.release_inputs(NODES[name])
        assert set(state.data) == {"summary"}

    def test_the_in_memory_outputs_of_the_pipeline_are_saved_in_the_catalog(self, state, catalog):
        state.data |= {"count": value(2), "summary": value({"total": 3})}
        state.save_outputs(catalog)
        assert catalog.load("summary") == {"total": 3}
        with pytest.raises(DatasetError):  # an intermediate dataset: not the run's result
            catalog.load("count")


class Scheduler:
    """A client's view of the scheduler: the tasks each worker processes."""

    def __init__(self, processing: dict[str, list[str]]):
        self._processing = processing
        self.asked = 0

    def processing(self) -> dict[str, list[str]]:
        self.asked += 1
        return self._processing


class TestPlacements:
    def test_nodes_ready_together_go_to_distinct_workers_most_free_threads_first(self):
        client = Scheduler({"a": ["t1", "t2"], "b": [], "c": ["t3"]})
        threads = {"a": 2, "b": 1, "c": 4}
        assert _placements(client, threads, 2) == [["c"], ["b"]]
        # The nodes beyond the workers are left to Dask.
        assert _placements(client, threads, 5) == [["c"], ["b"], ["a"]]

    def test_a_node_ready_alone_goes_to_a_worker_with_a_free_thread(self):
        # Not to "a", which made its inputs and would run it after t1 while "b" idles.
        client = Scheduler({"a": ["t1"], "b": [], "c": ["t2", "t3"]})
        assert _placements(client, {"a": 1, "b": 1, "c": 3}, 1) == [["b", "c"]]

    @pytest.mark.parametrize("processing", [{"a": [], "b": []}, {"a": ["t1"], "b": ["t2"]}])
    def test_it_is_left_to_dask_when_every_worker_or_none_is_free(self, processing):
        assert _placements(Scheduler(processing), {"a": 1, "b": 1}, 1) == [None]


def pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


class TestSubmission:
    def test_ready_nodes_wait_in_the_runner_for_an_idle_thread(self):
        # Dask would queue all six on the workers at once; the runner hands them
        # out as threads free up, so a node never waits behind another on a
        # busy worker while a thread idles.
        nodes = 6
        steps = pipeline(
            [node(pause, "params:seconds", f"out_{i}", name=f"pause_{i}") for i in range(nodes)]
        )
        catalog = DataCatalog(
            {
                "params:seconds": MemoryDataset(0.2),
                **{f"out_{i}": MemoryDataset() for i in range(nodes)},
            }
        )
        state = _RunState.start(steps, catalog)
        runner = DaskRunner(n_workers=2)
        task_args = ("parallel_trees", dict(LOGGING), None, False, None)
        submitted = []
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            while state.todo or state.queued or state.running:
                runner._submit_ready(client, state, catalog, task_args)
                submitted.append((len(state.running), len(state.queued)))
                runner._collect_finished(state, steps, catalog)
        assert submitted[0] == (2, nodes - 2)  # two threads: two nodes out, four kept
        assert max(running for running, _ in submitted) == 2
        assert len(state.done) == nodes
