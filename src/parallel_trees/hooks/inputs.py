"""Checks of a run's input before any node runs: parameters, the CSV files, the nodes chosen."""

from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from parallel_trees.errors import UserError
from parallel_trees.hooks.run_context import RUN_CONTEXT
from parallel_trees.kedro_internals import filepath, no_replacing_warning
from parallel_trees.parameter_sources import ParameterSources
from parallel_trees.parameters import validate_parameters

NEW_ROWS = "new_rows"  # the predict pipeline's input (conf/base/catalog.yml)

# What a run's options chose, as Kedro's run_params name them, and their flags.
CHOSEN_BY = {
    "pipeline_names": "--pipelines",
    "tags": "--tags",
    "node_names": "--nodes",
    "from_nodes": "--from-nodes",
    "to_nodes": "--to-nodes",
    "from_inputs": "--from-inputs",
    "to_outputs": "--to-outputs",
    "namespaces": "--namespaces",
}


class _NotRead:
    """Stands in for ``raw_data`` when a built-in dataset is used."""

    def __repr__(self) -> str:
        return "<raw_data: not read, the dataset parameter is not csv>"


NOT_READ = _NotRead()


def _replace(catalog: Any, name: str, data: Any) -> None:
    """Put ``data`` in the catalog under ``name``, without Kedro's "Replacing" warning.

    (Replacing a dataset is worth a warning in general; this hook means to.)
    """
    with no_replacing_warning():
        catalog[name] = data


def _chosen(run_params: dict[str, Any]) -> str:
    """The options that chose the nodes, as typed (``--pipelines training``)."""
    options = []
    for key, flag in CHOSEN_BY.items():
        value = run_params.get(key)
        if value:
            text = value if isinstance(value, str) else ",".join(value)
            options.append(f"{flag} {text}")
    return " ".join(options)


def unmade_inputs(pipeline: Pipeline, catalog: Any) -> list[str]:
    """The inputs of ``pipeline`` that nothing provides: nodes outside it make them in memory.

    (``run_context`` is provided: ``RunContextHooks`` adds it to every run.)
    """
    return sorted(n for n in pipeline.inputs() if n not in catalog and n != RUN_CONTEXT)


class InputChecksHooks:
    """Refuse a run whose parameters, CSV or chosen nodes cannot work, before any node runs."""

    def __init__(self) -> None:
        # Where each parameter of the run is set (the run guard's errors name it too).
        self.sources: ParameterSources | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Check the merged parameters (base, env and ``--params``)."""
        self.sources = ParameterSources.of(context.config_loader)
        validate_parameters(context.params, self.sources.where)

    @hook_impl
    def after_catalog_created(
        self, catalog: Any, conf_catalog: dict[str, Any], parameters: dict[str, Any]
    ) -> None:
        """Check the CSV exists, or stand in a placeholder for a built-in dataset.

        ``parameters`` maps ``params:<key>`` (and ``parameters``) to values.
        """
        if parameters.get("params:dataset") != "csv":
            # load_dataset takes raw_data in every run; only csv runs read it.
            _replace(catalog, "raw_data", NOT_READ)
            return
        if not catalog.exists("raw_data"):
            path = conf_catalog.get("raw_data", {}).get("filepath", "raw_data's file")
            where = f" (set in {self.sources.where('dataset')})" if self.sources else ""
            raise UserError(
                f"dataset: csv{where} reads the catalog's raw_data, and {path} does not exist. "
                "Put your CSV file there, or point to it with --params csv_path=<path> "
                "(or raw_data's filepath in conf/local/catalog.yml)."
            )

    # tryfirst: a run refused here has nothing for the other hooks to prepare.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        """Refuse a part of the pipeline whose inputs only the rest of it makes,
        and a prediction of new rows that are not there."""
        if NEW_ROWS in pipeline.inputs() and not catalog.exists(NEW_ROWS):
            raise UserError(
                f"{filepath(catalog.get(NEW_ROWS))} does not exist: point predict_csv at the "
                "CSV file of the rows to classify (--params predict_csv=<path>)."
            )
        missing = unmade_inputs(pipeline, catalog)
        if missing:
            nodes = ",".join(sorted(n.name for n in pipeline.nodes))
            raise UserError(
                f"kedro run {_chosen(run_params)} cannot run on its own: it needs "
                f"{', '.join(missing)}, which the nodes before it make in memory during "
                f"a run. Run them too: kedro run --to-nodes={nodes}"
            )
