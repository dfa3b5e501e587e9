"""Project hooks: check parameters before a run, and make a failed run end cleanly."""

import logging
import multiprocessing
import os
import shutil
import signal
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractVersionedDataset, CatalogProtocol, DatasetError, MemoryDataset
from kedro.pipeline import Node, Pipeline

from parallel_trees.errors import InputError, UserError
from parallel_trees.models import MODELS
from parallel_trees.parameters import validate_parameters
from parallel_trees.resources import available_cores, threads_per_model

logger = logging.getLogger(__name__)

# Where a run notes which node each process is running, so that a worker that
# dies (OOM killer, kill -9) can be named. One folder per run, removed at its end.
JOURNAL = ".running"
INTERRUPTED = 130  # exit code of a process ended by Ctrl-C (128 + SIGINT)


class ParameterValidationHooks:
    """Stop a run with bad parameters before any node runs."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Check the merged parameters (base, env and ``--params``)."""
        validate_parameters(context.params, context.env or "local")


def _replace(catalog: Any, name: str, data: Any) -> None:
    """Put ``data`` in the catalog under ``name``, without the "Replacing" warning.

    (Replacing a dataset is worth a warning in general; these hooks mean to.)
    """
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    level = catalog_logger.level
    catalog_logger.setLevel(logging.ERROR)
    try:
        catalog[name] = MemoryDataset(data=data)
    finally:
        catalog_logger.setLevel(level)


def runner_name(runner: str) -> str:
    """The runner's class name from Kedro's ``run_params["runner"]``.

    Kedro 1.7 records ``str(runner)`` there, e.g.
    ``<kedro.runner.parallel_runner.ParallelRunner object at 0x...>``, and
    ``"None"`` when the session ran its default, SequentialRunner.
    """
    if runner == "None":
        return "SequentialRunner"
    return runner.split(" object at ", maxsplit=1)[0].lstrip("<").rsplit(".", 1)[-1]


class RunnerHooks:
    """Make the runner's name the ``runner`` input of the run-timeline chart.

    It runs once, in the main process, before any node: so it works whatever
    the runner and however ParallelRunner starts its workers (project hooks do
    not fire in spawn-started workers, but the catalog entry travels with the
    catalog).
    """

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: CatalogProtocol) -> None:
        """Add ``runner`` (e.g. ``"ParallelRunner"``) to the run's catalog."""
        catalog["runner"] = runner_name(str(run_params["runner"]))


class ThreadBudgetHooks:
    """Resolve ``n_jobs: auto``: each model's share of the cores, for the runner in use."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        """Set each ``auto`` section's ``n_jobs`` before any node reads it.

        SequentialRunner trains one model at a time: all cores. ParallelRunner
        (and ThreadRunner) may train all at once: an equal share each. A Dask
        runner gives each task one thread of a worker, whose threads Dask
        counts as its slots: 1.
        """
        runner = runner_name(str(run_params["runner"]))
        training = sum(n.name.endswith(".train_model") for n in pipeline.nodes)
        at_once = 1 if runner == "SequentialRunner" else training
        cores = available_cores()
        threads = 1 if "Dask" in runner else threads_per_model(cores, at_once)
        for model in MODELS:
            name = f"params:{model}"
            section = catalog.get(name).load() if name in catalog else None
            if isinstance(section, dict) and section.get("n_jobs") == "auto":
                _replace(catalog, name, {**section, "n_jobs": threads})
        logger.info(
            "n_jobs auto: %d thread(s) per model (%s, %d cores, %d model(s) training at once)",
            threads,
            runner,
            cores,
            at_once,
        )


class CsvSourceHooks:
    """Read ``raw_data`` (the user's CSV) only when ``dataset: csv`` asks for it."""

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], parameters: dict[str, Any]
    ) -> None:
        """Check the CSV exists, or stand in a placeholder for a built-in dataset.

        ``parameters`` maps ``params:<key>`` (and ``parameters``) to values.
        """
        if parameters.get("params:dataset") != "csv":
            # load_dataset takes raw_data in every run; only csv runs read it.
            _replace(catalog, "raw_data", _NOT_READ)
            return
        if not catalog.exists("raw_data"):
            path = conf_catalog.get("raw_data", {}).get("filepath", "raw_data's file")
            raise UserError(
                f"dataset: csv reads the catalog's raw_data, and {path} does not exist. "
                "Put your CSV file there, or point to it with --params csv_path=<path> "
                "(or raw_data's filepath in conf/local/catalog.yml)."
            )


class _NotRead:
    """Stands in for ``raw_data`` when a built-in dataset is used."""

    def __repr__(self) -> str:
        return "<raw_data: not read, the dataset parameter is not csv>"


_NOT_READ = _NotRead()


class RunGuardHooks:
    """Make a failed or interrupted run end cleanly.

    - Every version this run saved is deleted, so the previous run's results
      stay the latest ones (models, predictions, metrics.json alike).
    - Ctrl-C becomes an ordinary error, so Kedro's runners wind down their
      worker processes and this cleanup runs.
    - Errors a user can fix become one ``Error: ...`` line, no traceback; a
      worker that died is named by the node it was running.
    """

    def __init__(self) -> None:
        self._journal: Path | None = None
        self._sigint: Any = None
        self._main_pid = 0  # the process running the pipeline; the others are workers
        self._node: str | None = None  # the node this process is running
        self._interrupted = False

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Start this run's journal and turn Ctrl-C into an error."""
        self._journal = Path(run_params["project_path"]) / JOURNAL / run_params["run_id"]
        self._journal.mkdir(parents=True, exist_ok=True)
        self._main_pid = os.getpid()
        self._interrupted = False
        self._sigint = signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, signum: int, frame: Any) -> None:
        """Ctrl-C: the run stops; a worker running a node ends at once; idle workers wait.

        A worker exits rather than raising: an exception raised inside a C
        library's callback (XGBoost's) would be printed and ignored there.
        """
        if os.getpid() != self._main_pid:
            if self._node is not None:
                os._exit(INTERRUPTED)
            return
        self._interrupted = True
        # Ctrl-C in a terminal signals every process of the run; `kill -INT` only
        # this one: pass it on to the workers (the runner's manager ignores it).
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGINT)
        raise RunInterruptedError("interrupted (Ctrl-C)")

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        """Note which process runs ``node`` (in the worker, under ParallelRunner)."""
        self._node = node.name
        if self._journal is not None and self._journal.is_dir():
            (self._journal / node.name).write_text(str(os.getpid()))

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        """``node`` finished: take it off the journal; stop if Ctrl-C was swallowed meanwhile."""
        self._node = None
        if self._journal is not None:
            (self._journal / node.name).unlink(missing_ok=True)
        if self._interrupted:
            raise RunInterruptedError("interrupted (Ctrl-C)")

    @hook_impl
    def after_pipeline_run(self) -> None:
        """The run succeeded: nothing to undo."""
        self._finish()

    @hook_impl
    def on_pipeline_error(self, error: Exception, pipeline: Pipeline, catalog: Any) -> None:
        """Delete this run's saved versions, then explain the error if a user can act on it."""
        unfinished = self._finish()
        discarded = _discard_saved_versions(pipeline, catalog)
        logger.debug("The run failed; its traceback:", exc_info=error)
        if discarded:
            logger.info("Deleted what this run saved: %s", ", ".join(discarded))
        # Ctrl-C may reach Kedro as a worker that ended (BrokenProcessPool).
        cause = RunInterruptedError("interrupted (Ctrl-C)") if self._interrupted else error
        explanation = _explain(cause, unfinished, catalog)
        if explanation is not None:
            raise explanation from error

    def _finish(self) -> dict[str, int]:
        """Restore Ctrl-C, remove the journal; the nodes it still lists, with their pids."""
        if self._sigint is not None:
            signal.signal(signal.SIGINT, self._sigint)
            self._sigint = None
        unfinished = {}
        if self._journal is not None and self._journal.is_dir():
            unfinished = {p.name: int(p.read_text() or 0) for p in self._journal.iterdir()}
            shutil.rmtree(self._journal, ignore_errors=True)
            if not any(self._journal.parent.iterdir()):
                self._journal.parent.rmdir()
        self._journal = None
        return unfinished


class RunInterruptedError(Exception):
    """Ctrl-C (SIGINT) during a run."""


def _discard_saved_versions(pipeline: Pipeline, catalog: Any) -> list[str]:
    """Delete the version this run saved of each versioned output; their names."""
    discarded = []
    for name in sorted(pipeline.all_outputs()):
        dataset = catalog.get(name) if name in catalog else None
        if not isinstance(dataset, AbstractVersionedDataset):
            continue
        try:
            saved = Path(dataset._get_versioned_path(dataset.resolve_save_version()))
        except DatasetError:
            continue
        if saved.parent.is_dir():
            shutil.rmtree(saved.parent)
            discarded.append(name)
    return discarded


def _explain(error: Exception, unfinished: dict[str, int], catalog: Any) -> UserError | None:
    """A one-message ``UserError`` for errors a user can act on, else ``None``."""
    if isinstance(error, InputError):
        return UserError(str(error))
    if isinstance(error, RunInterruptedError):
        return UserError("Run interrupted (Ctrl-C); nothing of it was kept.", INTERRUPTED)
    if isinstance(error, DatasetError) and str(error).startswith("raw_data:"):
        # The last line is the reader's own message (pandas', under any runner).
        path = catalog.get("raw_data")._describe().get("filepath")
        return UserError(
            f"{path} (the catalog's raw_data) could not be read as a CSV file: "
            f"{str(error).splitlines()[-1]}. It must be a text file of comma-separated "
            "values with a header row naming the columns."
        )
    if isinstance(error, BrokenProcessPool):
        running = ", ".join(f"{n} (process {pid})" for n, pid in sorted(unfinished.items()))
        return UserError(
            f"A worker process died while running {running or 'a node'}; it was killed "
            "(out of memory, or by a signal). Nothing of this run was kept. If it ran out "
            "of memory, use fewer rows or --runner-params max_workers=1; Kedro's "
            "--from-nodes hint above resumes the run."
        )
    return None
