"""The tracking hook closes a failed run's MLflow run by the run guard's verdict."""

from concurrent.futures.process import BrokenProcessPool

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from parallel_trees.errors import INTERRUPTED, UserError
from parallel_trees.hooks.run_guard import RunGuardHooks
from parallel_trees.hooks.tracking import TrackingHooks
from parallel_trees.kedro_internals import project_hook_manager
from parallel_trees.mlflow_run import MlflowRun
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
