"""The private Kedro API this project uses: an upgrade that changes it fails here first."""

from pathlib import Path

import pytest
from kedro.io import DataCatalog, DatasetError, MemoryDataset, Version
from kedro.pipeline import Pipeline, node
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset

from parallel_trees.datasets import TrainedModelDataset
from parallel_trees.hooks.kedro_internals import (
    filepath,
    own_dataset_message,
    saved_path,
    versioned_outputs,
)


def test_saved_path_is_where_this_runs_version_is_written(tmp_path):
    dataset = JSONDataset(filepath=str(tmp_path / "m.json"), version=Version(None, "2026-v1"))
    dataset.save({"a": 1})
    assert saved_path(dataset) == tmp_path / "m.json" / "2026-v1" / "m.json"
    assert saved_path(dataset).is_file()


def _same(x: dict) -> dict:
    return x


def _twice(x: dict) -> tuple[dict, dict]:
    return x, x


def test_versioned_outputs_are_where_this_run_saves_them_whether_or_not_it_did(tmp_path):
    version = Version(None, "2026-v1")
    catalog = DataCatalog(
        {
            "report": JSONDataset(filepath=str(tmp_path / "r.json"), version=version),
            "table": CSVDataset(filepath=str(tmp_path / "t.csv")),  # not versioned
            "scores": MemoryDataset(),
        }
    )
    pipeline = Pipeline(
        [node(_same, "params:x", "scores"), node(_twice, "scores", ["report", "table"])]
    )
    found = versioned_outputs(pipeline, catalog)
    assert list(found) == ["report"]
    dataset, path = found["report"]
    assert dataset is catalog.get("report")
    assert path == tmp_path / "r.json" / "2026-v1" / "r.json"
    assert not path.exists()  # where it will be: not saved yet


def test_filepath_of_a_file_dataset(tmp_path):
    assert Path(filepath(CSVDataset(filepath=str(tmp_path / "x.csv")))) == tmp_path / "x.csv"


def test_what_a_project_dataset_said_when_it_failed_to_load(tmp_path):
    dataset = TrainedModelDataset(str(tmp_path / "metrics.json"), str(tmp_path / "models"))
    with pytest.raises(DatasetError) as error:
        DataCatalog({"trained_model": dataset}).load("trained_model")
    message = own_dataset_message(error.value)
    assert message.startswith(f"No training run yet: {tmp_path / 'metrics.json'} has no version.")
