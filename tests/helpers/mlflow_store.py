"""An MLflow tracking store, read back through mlflow's own client only."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

# This process's own client is offline too, as mlflow_run.MlflowRun makes every run's.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
import mlflow  # noqa: E402 - after the opt-out

from tests.helpers.project import ProjectCopy  # noqa: E402

EXPERIMENT = "parallel-trees"
PARENT = "mlflow.parentRunId"


class Store:
    """An MLflow tracking store, read through mlflow's client only."""

    def __init__(self, uri: str):
        self.uri = uri
        self.client = mlflow.MlflowClient(uri)

    @classmethod
    def of(cls, project: ProjectCopy) -> "Store":
        """The SQLite store a project makes by default."""
        return cls(f"sqlite:///{project.root / 'mlflow.db'}")

    def top_level(self) -> list:
        """The experiment's runs that are no other run's child: one per Kedro run."""
        return [run for run in self._runs() if PARENT not in run.data.tags]

    def named(self, name: str):
        """The top-level run named ``name``, the Kedro run's version; exactly one."""
        (run,) = [run for run in self.top_level() if run.info.run_name == name]
        return run

    def children(self, run_id: str) -> list:
        return [run for run in self._runs() if run.data.tags.get(PARENT) == run_id]

    def steps(self, run_id: str, key: str) -> list[float]:
        """A metric's values in step order."""
        history = self.client.get_metric_history(run_id, key)
        return [metric.value for metric in sorted(history, key=lambda metric: metric.step)]

    def artifacts(self, run_id: str, folder: str | None = None) -> set[str]:
        """Every artifact file of a run, by path."""
        found = set()
        for entry in self.client.list_artifacts(run_id, folder):
            found |= self.artifacts(run_id, entry.path) if entry.is_dir else {entry.path}
        return found

    def text(self, run_id: str, path: str) -> str:
        with fluent(self.uri):  # runs:/ URIs are resolved by mlflow's global client
            return mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")

    def models(self, run_id: str) -> dict:
        """The MLflow models a run logged in the run's experiment, loaded, by name."""
        with fluent(self.uri):
            found = mlflow.search_logged_models(
                experiment_ids=[self._experiment_id()],
                filter_string=f"source_run_id = '{run_id}'",
                output_format="list",
            )
            return {model.name: mlflow.pyfunc.load_model(model.model_uri) for model in found}

    def _experiment_id(self) -> str:
        return self.client.get_experiment_by_name(EXPERIMENT).experiment_id

    def _runs(self) -> list:
        if self.client.get_experiment_by_name(EXPERIMENT) is None:
            return []
        return self.client.search_runs([self._experiment_id()], max_results=1000)


@contextmanager
def fluent(uri: str) -> Iterator[None]:
    """mlflow's global client on ``uri`` meanwhile. mlflow.set_tracking_uri also exports
    MLFLOW_TRACKING_URI, to child processes: the next kedro run would track there."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("MLFLOW_")}
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)
        for name in [name for name in os.environ if name.startswith("MLFLOW_")]:
            del os.environ[name]
        os.environ.update(saved)
