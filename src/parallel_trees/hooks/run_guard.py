"""The run guard: a failed, interrupted or killed run ends cleanly, whatever the runner."""

import logging
import shutil
from collections.abc import Generator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError
from kedro.pipeline import Pipeline
from kedro.runner import ParallelRunner as KedroParallelRunner

from parallel_trees.errors import InputError, RunInterrupted, UserError
from parallel_trees.hooks.inputs import InputChecksHooks
from parallel_trees.kedro_internals import (
    own_dataset_message,
    session_runner,
    versioned_outputs,
)
from parallel_trees.parameter_sources import ParameterSources
from parallel_trees.runners.journal import Journal
from parallel_trees.runners.supervision import Interrupt, RunStopped, Stop, Watchdog

logger = logging.getLogger(__name__)


class RunGuardHooks:
    """Make a failed, interrupted or killed run end cleanly.

    - Every version this run saved is deleted, so the previous run's results
      stay the latest ones (models, predictions, metrics.json alike).
    - Ctrl-C, or the death of any process of the run, stops the run at once
      (``supervision``) and names the nodes that were lost.
    - Errors a user can fix become one ``Error: ...`` line, no traceback.

    Which node each process runs is noted by ``journal.NodeJournalHooks``.
    """

    def __init__(self, inputs: InputChecksHooks | None = None) -> None:
        """``inputs``: the input checks, whose sources of the parameters an error about a
        setting names."""
        self._inputs = inputs
        self._watchdog: Watchdog | Interrupt | None = None
        self._journal: Journal | None = None
        self._verdict: tuple[Exception, UserError | None] | None = None

    # trylast: the checks of the other hooks come first; a run they refuse has nothing to guard.
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Start this run's journal and watchdog (in the main process)."""
        self._journal = Journal(run_params["run_id"]).open()
        self._verdict = None
        # Kedro's ParallelRunner and the project's (a subclass) start worker processes.
        parallel = isinstance(session_runner(), KedroParallelRunner)
        self._watchdog = (Watchdog() if parallel else Interrupt()).start()

    @hook_impl
    def after_pipeline_run(self) -> None:
        """The run succeeded: nothing to undo."""
        self._finish()

    def verdict(self, error: Exception) -> UserError | None:
        """What the run's failure means for its user: the one ``UserError`` that explains
        ``error``, or ``None`` when no explanation helps (a bug: its traceback shows).

        Worked out once, by whichever hook asks first: other hooks read it here (the
        tracking hook marks an interrupted run KILLED), whatever their order.
        """
        if self._verdict is None or self._verdict[0] is not error:
            stop, lost = self._finish()
            sources = self._inputs.sources if self._inputs else None
            self._verdict = (error, _explain(error, stop, lost, sources))
        return self._verdict[1]

    # A wrapper: every other hook's on_pipeline_error runs, in any order, before the
    # explanation replaces the error.
    @hook_impl(wrapper=True)
    def on_pipeline_error(
        self, error: Exception, pipeline: Pipeline, catalog: Any
    ) -> Generator[None, None, None]:
        """Delete this run's saved versions, then explain the error if a user can act on it."""
        explanation = self.verdict(error)
        discarded = _discard_saved_versions(pipeline, catalog)
        logger.debug("The run failed; its traceback:", exc_info=error)
        if discarded:
            logger.info("Deleted what this run saved: %s", ", ".join(discarded))
        try:
            return (yield)
        finally:
            if explanation is not None:
                raise explanation from error

    def _finish(self) -> tuple[Stop | None, dict[str, int]]:
        """Stop watching; why the run was stopped, and the nodes it lost, with their pids."""
        stop = self._watchdog.close() if self._watchdog else None
        lost = self._journal.running() if self._journal else {}
        if self._journal:
            self._journal.remove()
        self._watchdog = self._journal = None
        return stop, lost


def _discard_saved_versions(pipeline: Pipeline, catalog: Any) -> list[str]:
    """Delete the version this run saved of each versioned output; their names."""
    discarded = []
    for name, (_, saved) in versioned_outputs(pipeline, catalog).items():
        if saved.parent.is_dir():
            shutil.rmtree(saved.parent)
            discarded.append(name)
    return discarded


def _lost(lost: dict[str, int]) -> str:
    return ", ".join(f"{node} (process {pid})" for node, pid in sorted(lost.items())) or "none"


def _explain(
    error: Exception,
    stop: Stop | None,
    lost: dict[str, int],
    sources: ParameterSources | None = None,
) -> UserError | None:
    """A one-message ``UserError`` for errors a user can act on, else ``None``.

    An ``InputError``'s message ends with where its settings are set (``sources``).
    """
    if isinstance(error, InputError):
        where = sources.describe(error.settings) if sources else ""
        return UserError(f"{error} {where}".rstrip())
    if isinstance(error, DatasetError) and (message := own_dataset_message(error)):
        return UserError(message)
    if isinstance(error, RunStopped):
        stop = error.stop
    if stop is not None and stop.interrupted:
        return RunInterrupted("Run interrupted (Ctrl-C); nothing of it was kept.")
    if stop is not None or isinstance(error, BrokenProcessPool):
        what = f"{stop.process} {stop.how}" if stop else "a worker process was killed"
        return UserError(
            f"The run stopped: {what}. Nodes lost: {_lost(lost)}. Nothing of this run was "
            "kept. A process killed by SIGKILL was most likely out of memory: use fewer "
            "rows, or --runner-params max_workers=1. Then run the same command again."
        )
    return None
