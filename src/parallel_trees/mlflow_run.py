"""Every run remembered: what one Kedro run logs to MLflow, and the MLflow run that holds it.

Logged from the main process only (``hooks.TrackingHooks``), whatever the runner:
the nodes never talk to MLflow. ``mlflow`` is imported only by a run that tracks
(it takes about 2 s); the functions that decide what to log do not need it.
"""

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sklearn.pipeline import Pipeline

from parallel_trees.resources import alive

if TYPE_CHECKING:
    from mlflow.models import ModelSignature
    from mlflow.models.model import ModelInfo

# An MLflow parameter's value is at most 6,000 characters (mlflow 3.17).
MAX_PARAM = 6000
# The MLflow UI shows this tag as the run's source version.
GIT_COMMIT = "mlflow.source.git.commit"
# mlflow 3.17 retries a request to a tracking server that does not answer for minutes
# (7 retries, exponential backoff, 120 s timeout each; a run pointed at a closed port
# took 4 min 10 s to fail): opening the run asks once, within 10 s, so that a wrong
# URI stops the run at once (3.8 s), without urllib3's retry warnings. The logging
# after the pipeline keeps mlflow's patient defaults (a busy server may ask to wait).
OPENING = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
# Which process of which machine logs a run (and its child runs): a run still RUNNING
# whose process is gone was killed too hard to close it (SIGKILL, a power cut).
HOST, PID = "parallel_trees.host", "parallel_trees.pid"


def tracking_uri(configured: str | None, project_path: Path) -> str:
    """Where runs go: the ``mlflow.tracking_uri`` parameter, else ``MLFLOW_TRACKING_URI``,
    else an SQLite store in the project (``mlflow.db``)."""
    return (
        configured
        or os.environ.get("MLFLOW_TRACKING_URI")
        or f"sqlite:///{(project_path / 'mlflow.db').resolve()}"
    )


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every leaf of ``tree`` under its dotted key, as MLflow keeps parameters: text."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = str(value)[:MAX_PARAM]
    return flat


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _judged(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Every model's record, and the baseline's, by name."""
    baseline = metrics.get("baseline")
    return {**metrics["models"], **({"baseline": baseline} if baseline else {})}


def run_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The run's numbers from ``metrics.json``, by MLflow metric name.

    Per model, the baseline too: by the run's metric, ``<model>.cv_mean``, ``.cv_std``,
    ``.test_score`` (when rows were held out) and ``.rank``; the panel of every metric,
    ``<model>.cv.<metric>`` (the mean over the folds) and ``<model>.test.<metric>``. Per
    comparison, ``<a>_vs_<b>.cv_difference``, ``.cv_p_value``, ``.cv_p_adjusted`` and,
    held out, ``.test_difference``, ``.test_p_value`` and ``.test_p_adjusted``.
    """
    found: dict[str, float] = {}
    for name, model in _judged(metrics).items():
        for key in ("cv_mean", "cv_std", "test_score"):
            if _number(model.get(key)):
                found[f"{name}.{key}"] = float(model[key])
        for part in ("cv", "test"):
            for metric, value in (model.get(f"{part}_panel") or {}).items():
                if _number(value):
                    found[f"{name}.{part}.{metric}"] = float(value)
    for entry in metrics["ranking"]:
        found[f"{entry['model']}.rank"] = float(entry["rank"])
    for record in metrics["comparison"]["comparisons"]:
        key = "_vs_".join(record["models"])
        for test, prefix in (("cv", "cv"), ("held_out", "test")):
            for value in ("difference", "p_value", "p_adjusted"):
                if _number((record.get(test) or {}).get(value)):
                    found[f"{key}.{prefix}_{value}"] = float(record[test][value])
    return found


def fold_scores(metrics: Mapping[str, Any]) -> dict[str, list[float]]:
    """Each model's (and the baseline's) outer-fold scores by the run's metric, in fold
    order: ``<model>.cv_score``, one step per fold."""
    return {f"{name}.cv_score": m["cv_scores"] for name, m in _judged(metrics).items()}


def git_commit(path: Path) -> str | None:
    """The commit checked out at ``path``; ``None`` outside a git work tree or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    commit = done.stdout.strip() if done.returncode == 0 else ""
    return commit or None


def searches(training: Mapping[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tuned model's searches (one per outer fold, then the final one) and their trials."""
    for fold in training.get("folds", []):
        if fold.get("trials"):
            yield f"outer fold {fold['fold'] + 1}", fold["trials"]
    if training.get("search"):
        yield "all training rows", training["search"]["trials"]


class MlflowRun:
    """One Kedro run's MLflow run: opened before the first node, closed with its status.

    Opening it first closes, as KILLED, the experiment's runs left RUNNING by
    runs of this machine whose process has died (``orphans``: their ids).

    Args:
        uri: The tracking URI (``tracking_uri``).
        experiment: The experiment's name; made if missing (its artifacts beside
            an SQLite store, in the project's ``mlruns/``).
        name: The run's name: the Kedro run's version, as under ``data/``.
        tags: The run's tags.
    """

    def __init__(self, uri: str, experiment: str, name: str, tags: Mapping[str, str]):
        # mlflow's import would give its loggers a console handler of its own: the
        # project's logging (conf/logging.yml) says where their lines go.
        os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
        # Offline, as every run of this project: no usage report to MLflow's servers.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        import mlflow  # noqa: PLC0415 - only runs that track pay for it (about 2 s)

        self._mlflow = mlflow
        # log_model reads the tracking URI from mlflow's global setting.
        mlflow.set_tracking_uri(uri)
        self.client = mlflow.MlflowClient(uri)
        with _impatient():
            found = self.client.get_experiment_by_name(experiment)
            if found is None:
                artifacts = None
                if uri.startswith("sqlite:///"):
                    artifacts = (Path(uri.removeprefix("sqlite:///")).parent / "mlruns").as_uri()
                experiment_id = self.client.create_experiment(experiment, artifacts)
            else:
                experiment_id = found.experiment_id
            self.orphans = self._close_orphans(experiment_id)
            self._own = {HOST: socket.gethostname(), PID: str(os.getpid())}
            self.run = self.client.create_run(
                experiment_id, run_name=name, tags={**tags, **self._own}
            )
            # log_model puts a model in mlflow's active experiment, else in "Default".
            mlflow.set_experiment(experiment_id=experiment_id)
        self.uri = uri
        self.run_id = self.run.info.run_id
        self.experiment_id = experiment_id

    def log_params(self, params: Mapping[str, str], run_id: str | None = None) -> None:
        """Log ``params``, in batches of MLflow's limit (100 a call)."""
        entities = self._mlflow.entities
        items = [entities.Param(key, value) for key, value in params.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(run_id or self.run_id, params=items[start : start + 100])

    def log_metrics(
        self,
        values: Mapping[str, float],
        steps: Mapping[str, list[float]] = {},  # noqa: B006 - read only
        run_id: str | None = None,
        models: list[str] = [],  # noqa: B006 - read only
    ) -> None:
        """Log single values, then series (one step per item), in batches of 1,000; on the
        run's logged ``models`` (their ids) too, each metric's step 0.

        ``log_model`` copies the run's metrics at step 0 onto the model it logs (mlflow
        3.17's ``Model.log``), with one query per metric: the run's models are logged
        first, while the run has no metrics, and given theirs here, the same.
        """
        entities, now = self._mlflow.entities, _millis()
        items = [entities.Metric(key, value, now, 0) for key, value in values.items()]
        items += [
            entities.Metric(key, float(value), now, step)
            for key, series in steps.items()
            for step, value in enumerate(series)
        ]
        items += [
            entities.Metric(m.key, m.value, m.timestamp, m.step, model_id=model)
            for model in models
            for m in items
            if m.step == 0
        ]
        for start in range(0, len(items), 1000):
            self.client.log_batch(run_id or self.run_id, metrics=items[start : start + 1000])

    def log_artifacts(self, files: list[Path]) -> None:
        """Log each of a run's versioned files in its data folder, e.g. ``08_reporting/``.

        (A versioned file is ``data/<folder>/<name>/<version>/<name>``.)
        """
        for path in files:
            self.client.log_artifact(self.run_id, str(path), path.parents[2].name)

    def log_model(
        self, name: str, model: Pipeline, example: pd.DataFrame, classes: list[str]
    ) -> "ModelInfo":
        """Log a fitted model with its signature and input example (its ``model_uri`` and
        ``model_id``).

        It predicts class codes (a regression's: numbers): ``classes`` (the names, by
        code; none for a regression) is in its metadata,
        ``mlflow.pyfunc.load_model(uri).metadata.metadata["classes"]``.

        Saved with skops (mlflow's default, no pickle), trusting the types of
        this model, which this run has just fitted.
        """
        import skops.io  # noqa: PLC0415 - a dependency of mlflow's sklearn flavour

        rows = as_mlflow_reads(example)
        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        return self._mlflow.sklearn.log_model(
            model,
            name=name,
            signature=signature(example, model.predict(rows)),
            input_example=rows,
            metadata={"classes": [str(c) for c in classes]},
            skops_trusted_types=trusted,
            # What the model needs to load: without it, mlflow infers them by
            # loading the model again in a subprocess (about 3 s a model).
            pip_requirements=_requirements(model),
            run_id=self.run_id,  # this run's, without making it mlflow's active run
        )

    def child(self, name: str, parent_id: str, tags: Mapping[str, str] = {}) -> str:  # noqa: B006
        """A finished child run of ``parent_id``; its id."""
        run = self.client.create_run(
            self.experiment_id,
            run_name=name,
            tags={"mlflow.parentRunId": parent_id, **tags, **self._own},
        )
        return run.info.run_id

    def _close_orphans(self, experiment_id: str) -> list[str]:
        """Close as KILLED the runs of this machine left RUNNING by a dead process; their ids."""
        running = self.client.search_runs(
            [experiment_id],
            f"attributes.status = 'RUNNING' and tags.`{HOST}` = '{socket.gethostname()}'",
        )
        orphans = [run for run in running if not alive(int(run.data.tags[PID]))]
        for run in orphans:
            self.client.set_terminated(run.info.run_id, "KILLED")
        return [run.info.run_id for run in orphans]

    def end(self, status: str = "FINISHED", run_id: str | None = None) -> None:
        """Close the run (or a child run) as ``FINISHED``, ``FAILED`` or ``KILLED``."""
        self.client.set_terminated(run_id or self.run_id, status)


def prepare_model_logging() -> None:
    """Do now what logging the first model of this process does, whatever the model: about
    1.3 s of the 2 s that logging two models took (mlflow 3.17, 2 cores).

    That is importing skops (about 0.4 s) and IPython, which mlflow imports at each
    logged model to ask whether it runs in a notebook (about 0.2 s), and mlflow's map
    of installed modules to distributions, made by reading every installed
    distribution's file list (about 0.5 s): it checks a model's requirements against
    it, even when they are given (``_init_modules_to_packages_map``, its cache).
    """
    import skops.io  # noqa: F401, PLC0415 - the sklearn flavour's, imported by log_model
    from mlflow.utils import databricks_utils, requirements_utils  # noqa: PLC0415

    databricks_utils.is_running_in_ipython_environment()
    requirements_utils._init_modules_to_packages_map()


def _whole(example: pd.DataFrame) -> list[str]:
    """The whole-number columns of an input example (``take_input_example``'s ``Int64``)."""
    return [c for c in example.columns if pd.api.types.is_integer_dtype(example[c])]


def as_mlflow_reads(example: pd.DataFrame) -> pd.DataFrame:
    """The example as a logged model's input example: whole numbers as floats (JSON has
    no nullable integer)."""
    return example.astype(dict.fromkeys(_whole(example), "float64"))


def signature(example: pd.DataFrame, predictions: Any) -> "ModelSignature":
    """A logged model's signature: the one mlflow infers from the input example, but
    that a whole-number column takes any number.

    mlflow's schema refuses a float where it says integer (a blank makes a count
    float), and an int64 where it says double (3.17's ``_enforce_mlflow_datatype``
    converts integers of at most 6 bytes): so a whole-number column is ``Any``, as it
    is to the model, which reads both. Other columns keep the type inferred (a
    measurement: double; text: string), and the columns the model does not read are
    not in the schema: mlflow ignores them in a row, with a line in its log.
    """
    from mlflow.models import infer_signature  # noqa: PLC0415
    from mlflow.types.schema import AnyType, ColSpec, Schema  # noqa: PLC0415

    whole = _whole(example)
    inferred = infer_signature(as_mlflow_reads(example), predictions)
    inferred.inputs = Schema(
        [
            ColSpec(AnyType(), spec.name, spec.required) if spec.name in whole else spec
            for spec in inferred.inputs.inputs
        ]
    )
    return inferred


@contextmanager
def _impatient() -> Iterator[None]:
    """mlflow's HTTP requests meanwhile give up within seconds (``OPENING``), unless
    the user set those variables."""
    added = {key: value for key, value in OPENING.items() if key not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _millis() -> int:
    return int(time.time() * 1000)


def _requirements(model: Pipeline) -> list[str]:
    """scikit-learn, and the estimator's own library when it is another (xgboost)."""
    from importlib.metadata import version  # noqa: PLC0415

    libraries = {"scikit-learn"}
    root = type(model[-1]).__module__.split(".")[0]
    if root not in ("sklearn", "parallel_trees"):
        libraries.add(root)
    return [f"{library}=={version(library)}" for library in sorted(libraries)]
