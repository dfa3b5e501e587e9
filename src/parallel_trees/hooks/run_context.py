"""The run's context: which runner, how many cores, how many threads each model may use.

Computed once, in the main process, before any node runs, and handed to the
nodes that need it as an explicit input, the ``run_context`` dataset: so it
reaches them whatever the runner and however its workers start.
"""

import logging
import sys
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner

from parallel_trees.kedro_internals import pool_size, session_runner
from parallel_trees.resources import available_cores, threads_per_model
from parallel_trees.tags import FIT

logger = logging.getLogger(__name__)

RUN_CONTEXT = "run_context"


def runner_name(runner: AbstractRunner | None) -> str:
    """The runner's class name; the session's default, ``SequentialRunner``, when not seen."""
    return "SequentialRunner" if runner is None else type(runner).__name__


def runner_workers(runner: AbstractRunner | None, pipeline: Pipeline) -> int | None:
    """How many nodes ``runner`` runs at once on this machine; ``None`` if not known here.

    Kedro's runners size their pool (``max_workers``); a local Dask cluster
    has the runner's ``n_workers``. A running Dask cluster's workers are on
    other machines, and a runner outside a ``KedroSession`` is not seen: ``None``.
    """
    if runner is None:
        return None
    # Not imported, the DaskRunner's module cannot have made this runner (and a run on
    # another runner never imports Dask).
    dask = sys.modules.get("parallel_trees.runners.dask")
    if dask is not None and isinstance(runner, dask.DaskRunner):
        return None if runner.address else runner.n_workers
    return pool_size(runner, pipeline)


def run_context(runner: str, pipeline: Pipeline, cores: int, workers: int | None) -> dict[str, Any]:
    """What the nodes of this run may know of it.

    The training nodes that run at once are those in the run that fit models
    (tagged ``fit``), up to the runner's workers: SequentialRunner runs one at
    a time (all cores each); ParallelRunner and ThreadRunner as many as
    ``max_workers``, a local Dask cluster as many as its workers (an equal
    share of the cores each).
    Where the workers are not known here (a running Dask cluster, on other
    machines), each model gets 1 thread, which never oversubscribes a worker.

    Args:
        runner: The runner's class name.
        pipeline: The pipeline about to run (its ``fit`` nodes are counted).
        cores: The cores this process may use.
        workers: How many nodes the runner runs at once (``runner_workers``).

    Returns:
        ``runner``, ``cores``, ``fits_at_once`` and ``threads_per_model``
        (what ``n_jobs: auto`` becomes).
    """
    fits = max(1, sum(FIT in n.tags for n in pipeline.nodes))
    at_once = fits if workers is None else min(fits, workers)
    threads = 1 if workers is None else threads_per_model(cores, at_once)
    return {
        "runner": runner,
        "cores": cores,
        "fits_at_once": at_once,
        "threads_per_model": threads,
    }


class RunContextHooks:
    """Put the ``run_context`` dataset in the run's catalog."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        """Compute the run's context once, before any node runs."""
        runner = session_runner()
        context = run_context(
            runner_name(runner), pipeline, available_cores(), runner_workers(runner, pipeline)
        )
        catalog[RUN_CONTEXT] = context
        if not any("training" in n.tags for n in pipeline.nodes):
            return
        logger.info(
            "%s: %d core(s), %d training node(s) at once, n_jobs auto = %d thread(s) each",
            context["runner"],
            context["cores"],
            context["fits_at_once"],
            context["threads_per_model"],
        )
