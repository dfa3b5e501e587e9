"""The project's ParallelRunner: all workers ready at once, configured, under any start
method; the run's shared data in a folder of its own."""

import logging
import multiprocessing
import os
import shutil
import sys

import pytest
from kedro.framework import project

from parallel_trees.errors import UserError
from parallel_trees.parallel_runner import (
    ParallelRunner,
    shared_data,
    shared_data_root,
    start_method,
)
from tests.conftest import dead_pid

START_METHODS = ["fork", "spawn", "forkserver"]


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
def configured():
    """This process, with the project configured as `kedro run` configures it."""
    project.configure_project("parallel_trees")
    assert "parallel_trees" in project.LOGGING.data["loggers"]  # conf/logging.yml's


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


def test_no_more_workers_start_at_once_than_the_widest_step_can_use(configured, monkeypatch):
    # The pool still grows to its size (2) if a task finds no worker idle.
    assert _worker("spawn", monkeypatch, width=1)["started at once"] == 1


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_started_worker_is_configured_as_a_forked_one(configured, monkeypatch, method):
    inside = _worker(method, monkeypatch)
    assert inside["hooks"] == [
        "InputChecksHooks",
        "RunContextHooks",
        "RunGuardHooks",
        "TrackingHooks",
    ]
    assert inside["logging"] == ["results", "info_file_handler"]  # conf/logging.yml
    # Hidden from Kedro's Task, which would configure it again on every node, and fail.
    assert inside["package name"] is None


def test_a_start_method_that_does_not_exist_is_named(monkeypatch):
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "fork-server")
    with pytest.raises(UserError, match="KEDRO_MP_CONTEXT=fork-server .* fork, spawn, forkserver"):
        start_method()


@pytest.mark.parametrize("value, method", [("", None), ("spawn", "spawn")])
def test_start_method(monkeypatch, value, method):
    monkeypatch.setenv("KEDRO_MP_CONTEXT", value)
    assert start_method() == method


class TestSharedData:
    def test_each_run_has_a_folder_of_its_own_deleted_when_it_ends(self):
        with shared_data() as first, shared_data() as second:
            assert first != second
            assert first.parent == second.parent == shared_data_root()
            assert first.name.startswith(f"parallel-trees-data-{os.getpid()}-")
            (first / "X_train").write_bytes(b"data")
        assert not first.exists() and not second.exists()

    def test_the_folder_is_deleted_when_the_run_fails(self):
        with pytest.raises(KeyboardInterrupt), shared_data() as folder:
            (folder / "X_train").write_bytes(b"data")
            raise KeyboardInterrupt
        assert not folder.exists()

    def test_folders_of_runs_that_were_killed_are_swept_and_others_kept(self):
        killed = shared_data_root() / f"parallel-trees-data-{dead_pid()}-0123456789ab"
        running = shared_data_root() / f"parallel-trees-data-{os.getppid()}-0123456789ab"
        for folder in (killed, running):
            folder.mkdir()
            (folder / "X_train").write_bytes(b"data")
        try:
            with shared_data():
                assert not killed.exists()
                assert running.exists()
        finally:
            shutil.rmtree(killed, ignore_errors=True)
            shutil.rmtree(running, ignore_errors=True)


def test_no_data_manager_process_is_started(configured):
    before = multiprocessing.active_children()
    runner = ParallelRunner()
    assert multiprocessing.active_children() == before
    assert not hasattr(runner, "_manager")
