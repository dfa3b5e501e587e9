"""The tracking hook closes a failed run's MLflow run by the run guard's verdict, and
prepares the models' logging while the nodes run when no fork can follow."""

import threading
import time
from concurrent.futures.process import BrokenProcessPool

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from kedro.runner import ParallelRunner as KedroParallelRunner
from kedro.runner import SequentialRunner, ThreadRunner

from parallel_trees.errors import INTERRUPTED, UserError
from parallel_trees.hooks.run_guard import RunGuardHooks
from parallel_trees.hooks.tracking import TrackingHooks
from parallel_trees.kedro_internals import project_hook_manager
from parallel_trees.mlflow_run import MlflowRun
from parallel_trees.runners.parallel import ParallelRunner
from parallel_trees.runners.supervision import RunStopped, Stop

FAILURES = {
    # the error, the MLflow status, the exit code of kedro run (None: the error's traceback)
    "ctrl-c": (lambda: RunStopped(Stop(True)), "KILLED", INTERRUPTED),
    "dead worker": (lambda: BrokenProcessPool("a worker died"), "FAILED", 1),
    "bug": (lambda: ZeroDivisionError("a bug"), "FAILED", None),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.mark.parametrize("guard_first", [False, True], ids=["as in settings", "reversed"])
@pytest.mark.parametrize(("error", "status", "exit_code"), FAILURES.values(), ids=FAILURES)
def test_the_outcome_does_not_depend_on_the_order_of_the_hooks(
    tmp_path, monkeypatch, store, guard_first, error, status, exit_code
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    guard = RunGuardHooks()
    tracking = TrackingHooks(guard)
    run = MlflowRun(store, "order", "2026-02", {})
    tracking._run = run  # as its before_pipeline_run opens it for a tracked run
    guard.before_pipeline_run({"run_id": "2026-02"})
    hooks = project_hook_manager([guard, tracking] if guard_first else [tracking, guard]).hook
    try:
        hooks.on_pipeline_error(
            error=error(), run_params={}, pipeline=Pipeline([]), catalog=DataCatalog()
        )
    except UserError as explained:  # what kedro run prints, and exits with
        assert explained.exit_code == exit_code
    else:  # Kedro raises the error itself
        assert exit_code is None
    assert run.client.get_run(run.run_id).info.status == status


class TestPreparingWhileTheNodesRun:
    """The models' logging is prepared in a thread (``prepare_model_logging``) only once no
    worker can be forked from this process, and done before the models are logged."""

    @pytest.fixture
    def prepared(self, monkeypatch):
        """The threads started to prepare, each running ``prepare_model_logging`` (here: a
        wait of 0.2 s, then a mark)."""
        done: list[str] = []
        monkeypatch.setattr(
            "parallel_trees.hooks.tracking.prepare_model_logging",
            lambda: time.sleep(0.2) or done.append(threading.current_thread().name),
        )
        return done

    @pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
    def test_a_runner_without_workers_prepares_at_once(self, prepared, runner):
        tracking = TrackingHooks()
        tracking._prepare_while_nodes_run(runner())
        tracking._prepared()
        assert prepared == ["mlflow-prepare"]

    def test_this_projects_parallel_runner_once_its_workers_are_started(self, prepared):
        tracking, runner = TrackingHooks(), ParallelRunner()
        tracking._prepare_while_nodes_run(runner)
        assert tracking._preparing is None
        for callback in runner._when_started:  # as its _get_executor does, once started
            callback()
        tracking._prepared()
        assert prepared == ["mlflow-prepare"]

    @pytest.mark.parametrize("runner", [KedroParallelRunner, type(None)])
    def test_kedros_parallel_runner_or_an_unknown_one_never(self, prepared, runner):
        # Kedro's starts its workers when it first needs one, which no hook is told.
        tracking = TrackingHooks()
        tracking._prepare_while_nodes_run(runner())
        assert tracking._preparing is None
        tracking._prepared()
        assert prepared == []

    @pytest.mark.parametrize("end", ["after_pipeline_run", "on_pipeline_error"])
    def test_the_preparation_is_over_when_the_run_ends(self, prepared, end):
        # Else a later run of the same process (a notebook) could fork while it imports.
        tracking = TrackingHooks()
        tracking._prepare_while_nodes_run(SequentialRunner())
        if end == "after_pipeline_run":
            tracking.after_pipeline_run(Pipeline([]), DataCatalog())
        else:
            tracking.on_pipeline_error(ZeroDivisionError("a bug"))
        assert prepared == ["mlflow-prepare"]
        assert "mlflow-prepare" not in {thread.name for thread in threading.enumerate()}
