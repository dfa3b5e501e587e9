"""MLflow tracking: one MLflow run per Kedro run, logged from the main process.

Off unless the ``tracking`` parameter is true; then the run is opened before
the first node (its parameters and tags), filled once the pipeline has run (its
scores, files, models and, when tuned, its trials) and closed as FINISHED; a
failed run is closed as FAILED, an interrupted one as KILLED, as the run guard
deletes its files. The nodes never talk to MLflow: under ParallelRunner and the
DaskRunner they run in other processes, where a hook's logging would race
(Galileo-Galilei/kedro-mlflow#689).
"""

import logging
import threading
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner
from kedro.runner import ParallelRunner as KedroParallelRunner

from parallel_trees.errors import RunInterrupted, UserError
from parallel_trees.hooks.run_context import runner_name
from parallel_trees.hooks.run_guard import RunGuardHooks
from parallel_trees.kedro_internals import saved_version, session_runner, versioned_outputs
from parallel_trees.mlflow_run import (
    GIT_COMMIT,
    MlflowRun,
    flatten,
    fold_scores,
    git_commit,
    prepare_model_logging,
    run_metrics,
    searches,
    tracking_uri,
)
from parallel_trees.models import MODELS
from parallel_trees.parameters import dataset_name
from parallel_trees.runners.parallel import ParallelRunner

logger = logging.getLogger(__name__)

METRICS = "metrics"
INPUT_EXAMPLE = "input_example"


class TrackingHooks:
    """Remember every run in MLflow when the ``tracking`` parameter is true."""

    def __init__(self, guard: RunGuardHooks | None = None) -> None:
        """``guard``: the run guard whose verdict on a failed run says how to close it."""
        self._guard = guard
        self._context: KedroContext | None = None
        self._run: MlflowRun | None = None
        self._preparing: threading.Thread | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Keep the run's parameters, environment and project folder."""
        self._context = context

    # trylast: after the input checks (a refused run opens no MLflow run), and
    # registered before the run guard, so before its own trylast hook (settings.py).
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Open this run's MLflow run, with its parameters and tags."""
        context = self._context
        if context is None or not context.params.get("tracking"):
            return
        params = context.params
        project = Path(context.project_path)
        settings = params["mlflow"]
        uri = tracking_uri(settings["tracking_uri"], project)
        runner = session_runner()
        tags = {
            "runner": runner_name(runner),
            "dataset": dataset_name(str(params["dataset"])),
            "kedro_env": str(run_params.get("env") or context.env or "local"),
            "pipeline": ",".join(run_params.get("pipeline_names") or ["__default__"]),
        }
        if commit := git_commit(project):
            tags[GIT_COMMIT] = commit
        try:
            self._run = MlflowRun(uri, settings["experiment"], run_params["run_id"], tags)
            self._run.log_params(flatten(params))
        except Exception as error:  # whatever the store or server said
            self._abandon()
            raise UserError(
                f"MLflow tracking: cannot open a run at {uri} ({_first_line(error)}). "
                "Check mlflow.tracking_uri (or MLFLOW_TRACKING_URI), or run with "
                "--params tracking=false."
            ) from error
        if self._run.orphans:
            logger.warning(
                "Marked KILLED in MLflow: %s, left RUNNING by a kedro run of this machine "
                "that was killed before it could close them.",
                ", ".join(self._run.orphans),
            )
        logger.info(
            "Tracking this run in MLflow: run %s of experiment %r at %s",
            self._run.run_id,
            settings["experiment"],
            uri,
        )
        self._prepare_while_nodes_run(runner)

    # trylast: after the run guard's (not trylast) has closed its watchdog, even if
    # logging fails.
    @hook_impl(trylast=True)
    def after_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        """Log what the run made, then close its MLflow run as FINISHED."""
        self._prepared()
        if self._run is None:
            return
        run, self._run = self._run, None
        try:
            _log_results(run, pipeline, catalog)
        except Exception as error:
            run.end("FAILED")
            raise UserError(
                f"The run's results are saved, but logging them to MLflow failed "
                f"({_first_line(error)}); its MLflow run {run.run_id} is marked FAILED."
            ) from error
        run.end("FINISHED")
        logger.info("Logged to MLflow: run %s (%s)", run.run_id, run.uri)

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        """Close this run's MLflow run as KILLED when the run guard's verdict is an
        interrupted run (Ctrl-C), else FAILED."""
        verdict = self._guard.verdict(error) if self._guard else None
        self._abandon("KILLED" if isinstance(verdict, RunInterrupted) else "FAILED")

    def _prepare_while_nodes_run(self, runner: AbstractRunner | None) -> None:
        """Prepare the models' logging (``prepare_model_logging``) in a thread while the
        nodes run, which this process mostly waits for: once no fork can follow.

        Under this project's ParallelRunner, once its workers are started; under Kedro's
        (``kedro.runner.ParallelRunner``), which starts them when it first needs one, or
        an unknown runner, not at all: the models' logging does it all then.
        """
        if isinstance(runner, ParallelRunner):
            runner.when_workers_started(self._start_preparing)
        elif runner is not None and not isinstance(runner, KedroParallelRunner):
            self._start_preparing()

    def _start_preparing(self) -> None:
        self._preparing = threading.Thread(target=_prepare, name="mlflow-prepare", daemon=True)
        self._preparing.start()

    def _prepared(self) -> None:
        """Wait for the preparation, if started: no thread of this run imports any more (a
        later run in this process may fork)."""
        if self._preparing is not None:
            self._preparing.join()
            self._preparing = None

    def _abandon(self, status: str = "FAILED") -> None:
        self._prepared()
        if self._run is not None:
            run, self._run = self._run, None
            run.end(status)
            logger.info("MLflow run %s marked %s", run.run_id, status)


def _prepare() -> None:
    try:
        prepare_model_logging()
    except Exception:  # noqa: BLE001 - only a head start: logging a model does it again
        logger.debug("Preparing to log the models failed", exc_info=True)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _log_results(run: MlflowRun, pipeline: Pipeline, catalog: Any) -> None:
    """Scores, files, models and trials: whichever of them this run made."""
    # Every file the run saved, in its data folder (08_reporting/metrics.json...), each
    # pinned to this run's version, whatever runs saved since.
    saved = {
        name: (saved_version(dataset), path)
        for name, (dataset, path) in versioned_outputs(pipeline, catalog).items()
        if path.exists()
    }
    # No pickles: the models are logged as MLflow models, which load without pickle.
    run.log_artifacts([path for _, path in saved.values() if path.suffix != ".pkl"])

    def load(name: str) -> Any:
        return saved[name][0].load() if name in saved else None

    metrics = load(METRICS)
    example = load(INPUT_EXAMPLE)
    models = []  # the logged models' ids
    # The models first: logging one copies the run's metrics logged so far onto it, one
    # query each (log_metrics gives them theirs).
    for name in MODELS:
        model = load(f"{name}.model")
        judged = metrics and name in metrics["models"]  # not left out of the run
        if model is not None and example is not None and judged:
            info = run.log_model(name, model, example, metrics["run"]["classes"])
            models.append(info.model_id)
            logger.info("Logged %s to MLflow as %s", MODELS[name].display_name, info.model_uri)
        if metrics and name in metrics["models"]:
            metric = metrics["run"]["yardstick"]["metric"]
            _log_trials(run, name, metrics["models"][name], metric)

    if metrics:
        run.log_metrics(run_metrics(metrics), fold_scores(metrics), models=models)
        if metrics["ranking"]:
            run.client.set_tag(run.run_id, "best_model", metrics["best"])
            run.client.set_tag(run.run_id, "metric", metrics["run"]["yardstick"]["metric"])
        # The user's table: its entry, type, path, table or query, and content's SHA-256
        # (sources.describe, which holds no credentials), as data_source.<key> tags.
        for key, value in (metrics["run"].get("data_source") or {}).items():
            run.client.set_tag(run.run_id, f"data_source.{key}", value)


def _log_trials(run: MlflowRun, name: str, record: dict[str, Any], metric: str) -> None:
    """A tuned model's trials: a child run of the model, and one child of it per trial, its
    inner score as ``inner_<metric>``."""
    found = list(searches(record))
    if not found:
        return
    model_run = run.child(name, run.run_id, {"model": name})
    run.log_params(flatten({"best": record.get("hyperparameters", {})}), model_run)
    for label, trials in found:
        for number, trial in enumerate(trials):
            trial_run = run.child(
                f"{name} {label} trial {number + 1}",
                model_run,
                {"model": name, "search": label, "state": trial["state"]},
            )
            run.log_params(flatten(trial["params"]), trial_run)
            if trial.get("score") is not None:
                run.log_metrics({f"inner_{metric}": trial["score"]}, run_id=trial_run)
            run.end("FINISHED", trial_run)
    run.end("FINISHED", model_run)
