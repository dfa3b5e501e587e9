from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from parallel_trees.errors import UserError
from parallel_trees.hooks.inputs import NOT_READ, InputChecksHooks, unmade_inputs
from parallel_trees.parameters import InvalidParametersError
from parallel_trees.settings import CONFIG_LOADER_ARGS


def _step(*inputs):
    return inputs[0]


PIPELINE = Pipeline(
    [
        node(_step, ["raw", "params:k"], "clean", name="prepare"),
        node(_step, ["clean", "run_context"], "scores", name="score"),
    ]
)


class TestChosenNodes:
    def test_inputs_only_other_nodes_make_are_unmade(self):
        catalog = DataCatalog({"raw": MemoryDataset([1]), "params:k": MemoryDataset(1)})
        assert unmade_inputs(PIPELINE, catalog) == []  # run_context: added by its own hook
        assert unmade_inputs(PIPELINE.only_nodes("score"), catalog) == ["clean"]

    def test_a_part_of_the_pipeline_that_cannot_run_alone_is_refused_in_one_line(self):
        catalog = DataCatalog({"raw": MemoryDataset([1])})
        params = {"pipeline_names": ["scoring"], "tags": ["a", "b"], "node_names": []}
        with pytest.raises(UserError) as refused:
            InputChecksHooks().before_pipeline_run(params, PIPELINE.only_nodes("score"), catalog)
        assert str(refused.value) == (
            "kedro run --pipelines scoring --tags a,b cannot run on its own: it needs clean, "
            "which the nodes before it make in memory during a run. "
            "Run them too: kedro run --to-nodes=score"
        )

    def test_the_whole_pipeline_is_not_refused(self):
        catalog = DataCatalog({"raw": MemoryDataset([1]), "params:k": MemoryDataset(1)})
        InputChecksHooks().before_pipeline_run({}, PIPELINE, catalog)


class TestCsvSource:
    def test_a_built_in_dataset_stands_in_a_placeholder_for_raw_data(self, tmp_path):
        catalog = DataCatalog({"raw_data": MemoryDataset()})
        InputChecksHooks().after_catalog_created(catalog, {}, {"params:dataset": "iris"})
        assert repr(catalog.load("raw_data")) == repr(NOT_READ)  # MemoryDataset copies it

    def test_a_missing_csv_is_named_with_how_to_give_one(self, tmp_path):
        missing = tmp_path / "dataset.csv"
        catalog = DataCatalog.from_config(
            {"raw_data": {"type": "pandas.CSVDataset", "filepath": str(missing)}}
        )
        conf = {"raw_data": {"filepath": str(missing)}}
        with pytest.raises(
            UserError,
            match=f"dataset: csv reads the catalog's raw_data, and {missing} does not exist",
        ):
            InputChecksHooks().after_catalog_created(catalog, conf, {"params:dataset": "csv"})


class _Context:
    """What the hook reads of a KedroContext: its configuration, and the parameters merged."""

    def __init__(self, conf: Path, **runtime_params):
        self.config_loader = OmegaConfigLoader(
            str(conf), runtime_params=runtime_params, **CONFIG_LOADER_ARGS
        )
        self.params = self.config_loader["parameters"]


def test_parameters_are_checked_once_the_context_exists(project_root):
    with pytest.raises(InvalidParametersError, match=r"cv_folds = 1: .* Set in --params\."):
        InputChecksHooks().after_context_created(_Context(project_root / "conf", cv_folds=1))


def test_a_missing_csv_names_the_file_that_chose_it(project_root, tmp_path):
    hooks = InputChecksHooks()
    hooks.after_context_created(_Context(project_root / "conf", dataset="csv"))
    raw_data = {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "x.csv")}
    catalog = DataCatalog.from_config({"raw_data": raw_data})
    with pytest.raises(UserError, match=r"^dataset: csv \(set in --params\) reads"):
        hooks.after_catalog_created(catalog, {}, {"params:dataset": "csv"})
