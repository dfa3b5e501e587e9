"""The project's ParallelRunner: all workers ready at once, configured, under any start
method; the run's shared data in a folder of its own."""

import contextlib
import logging
import multiprocessing
import os
import sys
import time

import pytest
from kedro.framework import project
from kedro.io import MemoryDataset, SharedMemoryDataCatalog
from kedro.pipeline import Pipeline, node
from kedro_datasets.pickle import PickleDataset

from parallel_trees.errors import UserError
from parallel_trees.pipeline_registry import register_pipelines
from parallel_trees.runners import pool
from parallel_trees.runners.parallel import ParallelRunner, start_method
from parallel_trees.runners.pool import long_chains, worker_hook_manager
from parallel_trees.tags import LONG
from tests.helpers.processes import START_METHODS
from tests.helpers.project import configure_logging, logging_taken_back

pytestmark = pytest.mark.processes


def _inside() -> dict:
    """What a worker is like, seen from inside it."""
    return {
        "hooks": [type(hook).__name__ for hook in project.settings.HOOKS],
        "logging": [handler.name for handler in logging.getLogger("parallel_trees").handlers],
        "package name": project.PACKAGE_NAME,
        "disabled": list(project.settings.DISABLE_HOOKS_FOR_PLUGINS),
        "imported": "xgboost" in sys.modules,
    }


@pytest.fixture(scope="module")
def configured(project_root):
    """This process, with the project configured as `kedro run` configures it in a copy
    of the project (where its info.log goes); its logging taken back afterwards."""
    with contextlib.chdir(project_root), logging_taken_back():
        configure_logging(project_root)
        project.configure_project("parallel_trees")
        assert "parallel_trees" in project.LOGGING.data["loggers"]  # conf/logging.yml's
        yield


def _worker(method: str, monkeypatch, width: int = 2) -> dict:
    """A pool of two workers under ``method``: how many started at once, and one of them."""
    monkeypatch.setenv("KEDRO_MP_CONTEXT", method)
    runner = ParallelRunner()
    runner._modules = ["xgboost"]  # what _run sets: the pipeline's node modules
    runner._width = width  # and the most nodes one step of it runs at once
    before = len(multiprocessing.active_children())
    with runner._get_executor(2) as pool:
        started = len(multiprocessing.active_children()) - before
        inside = pool.submit(_inside).result()
    return {"started at once": started, **inside}


@pytest.mark.parametrize("method", START_METHODS)
def test_every_worker_starts_with_the_pool_and_imports_the_nodes(configured, monkeypatch, method):
    # Before any node is submitted: no node waits for a worker to start and import.
    inside = _worker(method, monkeypatch)
    assert inside["started at once"] == 2
    assert inside["imported"]
    assert inside["disabled"] == ["kedro-viz"]  # its hooks only warn in a worker


@pytest.mark.parametrize("method", START_METHODS)
def test_the_callbacks_are_called_once_every_worker_has_started(configured, monkeypatch, method):
    # Then a thread of this process may import: no worker is forked from it any more.
    monkeypatch.setenv("KEDRO_MP_CONTEXT", method)
    runner, seen = ParallelRunner(), []
    runner._width = 2
    before = len(multiprocessing.active_children())
    runner.when_workers_started(lambda: seen.append(len(multiprocessing.active_children())))
    with runner._get_executor(2), runner._get_executor(2):  # a callback is for one run
        pass
    assert [started - before for started in seen] == [2]


def test_a_run_that_ends_before_its_pool_starts_calls_nothing_later(configured, monkeypatch):
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "spawn")
    runner, seen = ParallelRunner(), []
    runner.when_workers_started(lambda: seen.append(True))
    with pytest.raises(AttributeError):  # no catalog: it fails before it starts its pool
        runner._run(Pipeline([node(_fails, None, "out")]), None)  # type: ignore[arg-type]
    with runner._get_executor(1):
        pass
    assert not seen


def test_no_more_workers_start_at_once_than_the_widest_step_can_use(configured, monkeypatch):
    # The pool still grows to its size (2) if a task finds no worker idle.
    assert _worker("spawn", monkeypatch, width=1)["started at once"] == 1


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_started_worker_is_configured_as_a_forked_one(configured, monkeypatch, method):
    inside = _worker(method, monkeypatch)
    assert inside["hooks"] == [
        "InputChecksHooks",
        "RunContextHooks",
        "TrackingHooks",
        "RunGuardHooks",
        "NodeJournalHooks",
    ]
    assert inside["logging"] == ["results", "info_file_handler"]  # conf/logging.yml
    # Hidden from Kedro's Task, which would configure it again on every node, and fail.
    assert inside["package name"] is None


def _hook_manager(_: int) -> dict:
    """A node: the hook manager that Kedro's Task runs it with, and its worker's."""
    frame = sys._getframe(1)
    while "hook_manager" not in frame.f_locals:  # Task._call_node_run's argument
        frame = frame.f_back
    manager = frame.f_locals["hook_manager"]
    return {
        "pid": os.getpid(),
        "manager": id(manager),
        "the worker's": manager is worker_hook_manager(),
        "made": worker_hook_manager.cache_info().misses,
        "hooks": {type(hook).__name__ for hook in manager.get_plugins()},
    }


def test_each_worker_runs_every_node_with_one_hook_manager_made_once(configured):
    # Kedro's Task would make one per node, rescanning every installed package's entry
    # points. Under this run's start method (CI: fork, then spawn, then forkserver).
    nodes = [node(_hook_manager, "x", f"seen_{i}", name=f"node_{i}") for i in range(6)]
    catalog = SharedMemoryDataCatalog({"x": MemoryDataset(0)})
    runner = ParallelRunner(max_workers=2)
    seen = [dataset.load() for dataset in runner.run(Pipeline(nodes), catalog).values()]
    assert len(seen) == 6
    managers = {}
    for inside in seen:
        managers.setdefault(inside["pid"], set()).add(inside["manager"])
        assert inside["the worker's"]
        assert inside["made"] == 1
        # The project's hooks (settings.HOOKS) and the plugins' (the node journal).
        assert {"RunGuardHooks", "TrackingHooks", "NodeJournalHooks"} <= inside["hooks"]
    assert all(len(ids) == 1 for ids in managers.values())


class _Task:
    """A stand-in for Kedro's Task: its node returns, or fails."""

    def __init__(self, fails: bool):
        self.fails = fails

    def execute(self) -> str:
        if self.fails:
            raise ValueError("this node fails")
        return "the node"


@pytest.mark.parametrize("fails", [False, True])
def test_a_worker_gives_back_what_a_node_freed_once_it_ends(monkeypatch, fails):
    # glibc keeps freed blocks for reuse: at 1e6 rows, 50-100 MB a worker no longer used.
    events = []
    monkeypatch.setattr(pool, "worker_hook_manager", lambda: None)
    monkeypatch.setattr(pool, "return_free_memory", lambda: events.append("given back"))
    with pytest.raises(ValueError) if fails else contextlib.nullcontext():
        events.append(pool.run_task(_Task(fails)))
    assert events == ["given back"] if fails else ["given back", "the node"]


def test_giving_back_freed_memory_works_where_glibc_is_and_is_skipped_elsewhere():
    pool.return_free_memory()  # no error either way
    assert (pool._malloc_trim() is None) == (sys.platform != "linux")


def test_a_start_method_that_does_not_exist_is_named(monkeypatch):
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "fork-server")
    with pytest.raises(UserError, match="KEDRO_MP_CONTEXT=fork-server .* fork, spawn, forkserver"):
        start_method()


@pytest.mark.parametrize("value, method", [("", None), ("spawn", "spawn")])
def test_start_method(monkeypatch, value, method):
    monkeypatch.setenv("KEDRO_MP_CONTEXT", value)
    assert start_method() == method


def test_no_data_manager_process_is_started(configured):
    before = multiprocessing.active_children()
    runner = ParallelRunner()
    assert multiprocessing.active_children() == before
    assert not hasattr(runner, "_manager")


def _started(*_: object) -> int:
    """A node: when it started, on the clock that every process of the machine shares."""
    return time.monotonic_ns()


def _fails(*_: object) -> None:
    raise ValueError("this node fails")


def _fan_out(long_node=_started) -> Pipeline:
    """``start``, then five nodes at once: three short, ``fit_1`` (long), and ``fit_2``
    (long, followed by a long ``explain_2``)."""
    return Pipeline(
        [
            node(_started, None, "start", name="start"),
            *(node(_started, "start", f"short_{n}", name=f"short_{n}") for n in (1, 2, 3)),
            node(long_node, "start", "fit_1", name="fit_1", tags=LONG),
            node(_started, "start", "fit_2", name="fit_2", tags=LONG),
            node(_started, "fit_2", "explain_2", name="explain_2", tags=LONG),
        ]
    )


class TestLongestFirst:
    def test_each_node_counts_the_long_nodes_of_its_longest_chain(self, configured):
        chains = {n.name: c for n, c in long_chains(register_pipelines()["__default__"]).items()}
        for model in ("random_forest", "xgboost"):
            assert chains[f"{model}.fit_model"] == 2  # then explain_model
            assert chains[f"{model}.explain_model"] == 1
            assert chains[f"{model}.cross_validate_1_of_5"] == 1
            assert chains[f"{model}.predict_test_rows"] == 0
        assert chains["data_preparation.load_dataset"] == 2
        assert chains["report_results"] == 0

    def test_a_free_worker_takes_the_node_with_the_longest_chain_ahead(self, configured, tmp_path):
        # Files: what the nodes saved outlives the run (its shared data does not).
        names = ["short_1", "short_2", "short_3", "fit_1", "fit_2", "explain_2"]
        saved = {name: PickleDataset(filepath=str(tmp_path / name)) for name in names}
        ParallelRunner(max_workers=1).run(_fan_out(), SharedMemoryDataCatalog({**saved}))
        started = {name: dataset.load() for name, dataset in saved.items()}
        order = sorted(started, key=started.get)
        # The first of the five nodes starts as soon as it is submitted (Kedro submits
        # them in no set order); the worker then takes the others longest chain first.
        rest = [name for name in order if name != "explain_2"][1:]
        assert rest == sorted(rest, key=lambda name: not name.startswith("fit"))
        if "fit_2" in rest and "fit_1" in rest:
            assert rest.index("fit_2") < rest.index("fit_1")  # a chain of 2 long nodes

    def test_a_failing_node_fails_the_run_and_the_waiting_nodes_never_start(
        self, configured, tmp_path
    ):
        # Files: what the nodes that ran saved outlives the run (its shared data does not).
        shorts = {
            f"short_{n}": PickleDataset(filepath=str(tmp_path / f"{n}.pkl")) for n in (1, 2, 3)
        }
        catalog = SharedMemoryDataCatalog({**shorts})  # a copy: the catalog adds to its dict
        with pytest.raises(ValueError, match="this node fails"):
            ParallelRunner(max_workers=1).run(_fan_out(long_node=_fails), catalog)
        started = [name for name, dataset in shorts.items() if dataset.exists()]
        assert len(started) < 3  # noqa: PLR2004 - fit_1 failed before the last short node
