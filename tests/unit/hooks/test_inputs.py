import logging
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from parallel_trees.errors import UserError
from parallel_trees.hooks.inputs import NOT_READ, InputChecksHooks, unmade_inputs
from parallel_trees.parameters import InvalidParametersError
from parallel_trees.settings import CONFIG_LOADER_ARGS
from parallel_trees.sources import fingerprint


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


class _Context:
    """What the hook reads of a KedroContext: its configuration, and the parameters merged."""

    def __init__(self, conf: Path, project_path: Path | None = None, **runtime_params):
        self.config_loader = OmegaConfigLoader(
            str(conf), runtime_params=runtime_params, **CONFIG_LOADER_ARGS
        )
        self.params = self.config_loader["parameters"]
        self.project_path = project_path or conf.parent


def test_parameters_are_checked_once_the_context_exists(project_root):
    with pytest.raises(InvalidParametersError, match=r"cv_folds = 1: .* Set in --params\."):
        InputChecksHooks().after_context_created(_Context(project_root / "conf", cv_folds=1))


RAW = Pipeline([node(_step, ["raw_data", "params:dataset"], "features", name="load")])
PREDICT = Pipeline([node(_step, ["new_rows"], "predictions", name="predict")])


def _hooks(project_root: Path, root: Path | None = None, **params) -> InputChecksHooks:
    """The hook, once its context's parameters (``project_root``'s and ``params``) are
    read; ``root``: the project's folder, which relative paths start from."""
    hooks = InputChecksHooks()
    hooks.after_context_created(_Context(project_root / "conf", root, **params))
    return hooks


def _catalog(**entries) -> DataCatalog:
    return DataCatalog.from_config({"params:dataset": {"type": "MemoryDataset"}, **entries})


class TestUserTables:
    def test_a_built_in_dataset_stands_in_a_placeholder_for_raw_data(self, project_root):
        catalog = _catalog(raw_data={"type": "pandas.CSVDataset", "filepath": "nowhere.csv"})
        _hooks(project_root, dataset="iris").before_pipeline_run({}, RAW, catalog)
        assert repr(catalog.load("raw_data")) == repr(NOT_READ)  # MemoryDataset copies it

    def test_any_table_dataset_is_read_as_a_table_with_its_source(self, project_root, tmp_path):
        path = tmp_path / "flowers.parquet"
        frame = pd.DataFrame({"x": [1.5, 2.5], "species": ["a", "b"]}, index=[7, 9])
        frame.to_parquet(path)
        catalog = _catalog(raw_data={"type": "pandas.ParquetDataset", "filepath": str(path)})
        _hooks(project_root, dataset="raw_data").before_pipeline_run({}, RAW, catalog)
        table = catalog.load("raw_data")
        assert table.data.equals(frame.reset_index(drop=True))  # rows numbered from 0
        assert table.source == {
            "entry": "raw_data",
            "type": "pandas.ParquetDataset",
            "path": str(path),
            "sha256": fingerprint(frame.reset_index(drop=True)),
        }

    def test_a_missing_file_is_named_with_how_to_give_one(self, project_root, tmp_path):
        missing = tmp_path / "dataset.parquet"
        catalog = _catalog(raw_data={"type": "pandas.ParquetDataset", "filepath": str(missing)})
        hooks = _hooks(project_root, dataset="raw_data")
        with pytest.raises(UserError) as refused:
            hooks.before_pipeline_run({}, RAW, catalog)
        assert str(refused.value) == (
            f"dataset: raw_data (set in --params) reads the catalog's raw_data, and {missing} "
            "does not exist. Put your table there, or point raw_data's filepath in your "
            "catalog at it (README: Where your table lives)."
        )  # not csv_path, which this entry does not read

    def test_a_path_parameter_that_the_entry_does_not_read_is_refused(self, project_root, tmp_path):
        path = tmp_path / "flowers.parquet"
        pd.DataFrame({"x": [1.5]}).to_parquet(path)
        catalog = _catalog(raw_data={"type": "pandas.ParquetDataset", "filepath": str(path)})
        hooks = _hooks(project_root, dataset="raw_data", csv_path="other.csv")
        with pytest.raises(UserError) as refused:
            hooks.before_pipeline_run({}, RAW, catalog)
        assert str(refused.value) == (
            f"csv_path = other.csv (set in --params), but raw_data reads raw_data ({path}): "
            "csv_path is the file of conf/base/catalog.yml's raw_data, which your catalog "
            "replaces. Set the filepath of your raw_data entry instead (or "
            "${runtime_params:csv_path} in it)."
        )

    def test_a_path_parameter_that_the_entry_reads_is_taken(self, project_root, tmp_path):
        pd.DataFrame({"x": [1.5]}).to_csv(tmp_path / "new.csv", index=False)
        entry = {"type": "parallel_trees.datasets.CSVTableDataset", "filepath": "new.csv"}
        catalog = DataCatalog.from_config(
            {"new_rows": entry | {"filepath": str(tmp_path / "new.csv")}}
        )
        hooks = _hooks(project_root, root=tmp_path, predict_csv="new.csv")
        hooks.before_pipeline_run({}, PREDICT, catalog)
        assert catalog.load("new_rows").data["x"].tolist() == [1.5]

    def test_missing_new_rows_say_how_to_give_them(self, project_root, tmp_path):
        missing = tmp_path / "new.csv"
        catalog = _catalog(new_rows={"type": "pandas.CSVDataset", "filepath": str(missing)})
        with pytest.raises(UserError, match=f"^{missing} does not exist: it should hold the rows"):
            _hooks(project_root).before_pipeline_run({}, PREDICT, catalog)

    def test_an_entry_that_cannot_be_made_is_one_line_naming_it(self, project_root):
        catalog = _catalog(new_rows={"type": "pandas.ParquetDatasett", "filepath": "x.parquet"})
        with pytest.raises(UserError) as refused:
            _hooks(project_root).before_pipeline_run({}, PREDICT, catalog)
        assert str(refused.value) == (
            "new_rows, in the catalog, cannot be read: Dataset 'ParquetDatasett' not found in "
            "'pandas'. Make sure the dataset name is correct."
        )
        assert "\n" not in str(refused.value)

    def test_csv_still_works_with_a_line_pointing_to_the_new_name(self, project_root, caplog):
        caplog.set_level(logging.WARNING, logger="parallel_trees")
        missing = "nowhere.csv"
        catalog = _catalog(raw_data={"type": "pandas.CSVDataset", "filepath": missing})
        hooks = _hooks(project_root, dataset="csv")
        with pytest.raises(UserError, match="^dataset: raw_data .* nowhere.csv does not exist"):
            hooks.before_pipeline_run({}, RAW, catalog)  # csv reads raw_data
        assert caplog.messages == [
            "dataset: csv (set in --params) is now called raw_data; csv still works."
        ]
