"""Project hooks."""

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol

from parallel_trees.parameters import validate_parameters


class ParameterValidationHooks:
    """Stop a run with bad parameters before any node runs."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Check the merged parameters (base, env and ``--params``)."""
        validate_parameters(context.params, context.env or "local")


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
