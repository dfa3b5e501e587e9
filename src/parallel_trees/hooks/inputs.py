"""Checks of a run's input before any node runs: parameters, the user's tables, the nodes
chosen."""

import logging
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError
from kedro.pipeline import Pipeline

from parallel_trees.datasets import CSVTableDataset, UserTableDataset
from parallel_trees.errors import UserError
from parallel_trees.hooks.run_context import RUN_CONTEXT
from parallel_trees.kedro_internals import no_replacing_warning
from parallel_trees.parameter_sources import ParameterSources
from parallel_trees.parameters import OLD_NAMES, RAW_DATA, dataset_name, validate_parameters
from parallel_trees.sources import where

logger = logging.getLogger(__name__)

NEW_ROWS = "new_rows"  # the predict pipeline's input (conf/base/catalog.yml)
# The runtime parameter that sets each entry's file in conf/base/catalog.yml.
PATH_PARAMETERS = {RAW_DATA: "csv_path", NEW_ROWS: "predict_csv"}
CONFIG_NOISE = ("An exception occurred when parsing config", "Hint: ")

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
        return "<raw_data: not read, the dataset parameter is not raw_data>"


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
    """Refuse a run whose parameters, tables or chosen nodes cannot work, before any node runs."""

    def __init__(self) -> None:
        # Where each parameter of the run is set (the run guard's errors name it too).
        self.sources: ParameterSources | None = None
        self._dataset: str | None = None  # the dataset parameter, by its current name
        self._paths: dict[str, str] = {}  # csv_path and predict_csv, when given
        self._root = Path.cwd()  # the project's folder, which relative paths start from

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Check the merged parameters (base, env and ``--params``)."""
        self.sources = ParameterSources.of(context.config_loader)
        validate_parameters(context.params, self.sources.where)
        given = str(context.params["dataset"])  # validated: one of DATASETS
        self._paths = {
            p: context.params[p] for p in PATH_PARAMETERS.values() if context.params.get(p)
        }
        self._root = Path(context.project_path)
        self._dataset = dataset_name(given)
        if given in OLD_NAMES:
            logger.warning(
                "dataset: %s (set in %s) is now called %s; %s still works.",
                given,
                self.sources.where("dataset"),
                self._dataset,
                given,
            )

    # tryfirst: a run refused here has nothing for the other hooks to prepare.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        """Refuse a part of the pipeline whose inputs only the rest of it makes, and a
        table whose file is missing; read the user's tables as ``Table``s.

        ``raw_data`` is read only when ``dataset`` is ``raw_data``; otherwise a
        placeholder stands in for it (``load_dataset`` takes it in every run). Done
        here, not when the catalog is made, so that ``kedro catalog`` shows the
        catalog as declared.
        """
        inputs = pipeline.inputs()
        if RAW_DATA in inputs:
            if self._dataset == RAW_DATA:
                _replace(catalog, RAW_DATA, self._table(catalog, RAW_DATA))
            else:
                _replace(catalog, RAW_DATA, NOT_READ)
        if NEW_ROWS in inputs:
            _replace(catalog, NEW_ROWS, self._table(catalog, NEW_ROWS))
        missing = unmade_inputs(pipeline, catalog)
        if missing:
            nodes = ",".join(sorted(n.name for n in pipeline.nodes))
            raise UserError(
                f"kedro run {_chosen(run_params)} cannot run on its own: it needs "
                f"{', '.join(missing)}, which the nodes before it make in memory during "
                f"a run. Run them too: kedro run --to-nodes={nodes}"
            )

    def _table(self, catalog: Any, entry: str) -> UserTableDataset:
        """The catalog's ``entry``, read as a user's table; refused when its file is missing."""
        try:
            dataset = catalog.get(entry)
        except DatasetError as error:  # the entry's dataset cannot be made from its config
            # Kedro's "An exception occurred when parsing config ...", then the reason,
            # then a "Hint:" to install kedro-datasets.
            lines = [line for line in str(error).splitlines() if line.strip()]
            reason = next((line for line in lines if not line.startswith(CONFIG_NOISE)), "")
            reason = reason.rstrip(".")  # kedro-datasets' 'con' message ends with two
            raise UserError(f"{entry}, in the catalog, cannot be read: {reason}.") from error
        if dataset is None:
            raise UserError(f"{entry} is not in the catalog: declare it (conf/base/catalog.yml).")
        table = UserTableDataset(dataset, entry)
        self._check_path_parameter(table)
        path = table.source.get("path")
        if path is None or "://" in path or Path(path).exists():  # a table, a query, a URL
            return table
        # The project's CSV entries read the path parameter; a user's own entry, its filepath.
        if isinstance(dataset, CSVTableDataset):
            point = f"--params {PATH_PARAMETERS[entry]}=<path> at it (a CSV file), or {entry} "
            point += "in conf/local/catalog.yml at any other"
        else:
            point = f"{entry}'s filepath in your catalog at it"
        if entry == NEW_ROWS:
            raise UserError(
                f"{path} does not exist: it should hold the rows to predict. Point {point}."
            )
        set_in = f" (set in {self.sources.where('dataset')})" if self.sources else ""
        raise UserError(
            f"dataset: raw_data{set_in} reads the catalog's raw_data, and {path} does not "
            f"exist. Put your table there, or point {point} (README: Where your table lives)."
        )

    def _check_path_parameter(self, table: UserTableDataset) -> None:
        """Refuse ``csv_path`` (``predict_csv``) when the entry does not read it: an entry
        of the user's own catalog, which the parameter does not change."""
        entry = table.source["entry"]
        param = PATH_PARAMETERS[entry]
        given = self._paths.get(param)
        path = table.source.get("path")
        if not given or (path and Path(path).resolve() == (self._root / given).resolve()):
            return
        set_in = self.sources.where(param) if self.sources else "--params"
        raise UserError(
            f"{param} = {given} (set in {set_in}), but {entry} reads {where(table.source)}: "
            f"{param} is the file of conf/base/catalog.yml's {entry}, which your catalog "
            f"replaces. Set the filepath of your {entry} entry instead (or "
            f"${{runtime_params:{param}}} in it)."
        )
