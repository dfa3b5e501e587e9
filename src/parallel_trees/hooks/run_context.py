"""The run's context: which runner, how many cores, how many threads each model may use.

Computed once, in the main process, before any node runs, and handed to the
nodes that need it as an explicit input, the ``run_context`` dataset: so it
reaches them whatever the runner and however its workers start.
"""

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from parallel_trees.resources import available_cores, threads_per_model

logger = logging.getLogger(__name__)

RUN_CONTEXT = "run_context"


def runner_name(runner: str) -> str:
    """The runner's class name from Kedro's ``run_params["runner"]``.

    Kedro 1.7 records ``str(runner)`` there, e.g.
    ``<kedro.runner.parallel_runner.ParallelRunner object at 0x...>``, and
    ``"None"`` when the session ran its default, SequentialRunner.
    """
    if runner == "None":
        return "SequentialRunner"
    return runner.split(" object at ", maxsplit=1)[0].lstrip("<").rsplit(".", 1)[-1]


def run_context(runner: str, pipeline: Pipeline, cores: int) -> dict[str, Any]:
    """What the nodes of this run may know of it.

    SequentialRunner trains one model at a time: all cores each.
    ParallelRunner (and ThreadRunner) may train every model at once: an equal
    share each. A Dask runner gives each task one thread of a worker, whose
    threads Dask counts as its slots: 1.

    Args:
        runner: The runner's class name.
        pipeline: The pipeline about to run (its ``training`` nodes are counted).
        cores: The cores this process may use.

    Returns:
        ``runner``, ``cores``, ``models_at_once`` and ``threads_per_model``
        (what ``n_jobs: auto`` becomes).
    """
    models = {n.namespace for n in pipeline.nodes if "training" in n.tags}
    at_once = 1 if runner == "SequentialRunner" else max(1, len(models))
    threads = 1 if "Dask" in runner else threads_per_model(cores, at_once)
    return {
        "runner": runner,
        "cores": cores,
        "models_at_once": at_once,
        "threads_per_model": threads,
    }


class RunContextHooks:
    """Put the ``run_context`` dataset in the run's catalog."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        """Compute the run's context once, before any node runs."""
        context = run_context(runner_name(str(run_params["runner"])), pipeline, available_cores())
        catalog[RUN_CONTEXT] = context
        if not any("training" in n.tags for n in pipeline.nodes):
            return
        logger.info(
            "%s: %d core(s), %d model(s) training at once, n_jobs auto = %d thread(s) each",
            context["runner"],
            context["cores"],
            context["models_at_once"],
            context["threads_per_model"],
        )
