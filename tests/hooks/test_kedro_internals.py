"""The private Kedro API this project uses: an upgrade that changes it fails here first."""

from pathlib import Path

from kedro.io import Version
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset

from parallel_trees.hooks.kedro_internals import filepath, saved_path


def test_saved_path_is_where_this_runs_version_is_written(tmp_path):
    dataset = JSONDataset(filepath=str(tmp_path / "m.json"), version=Version(None, "2026-v1"))
    dataset.save({"a": 1})
    assert saved_path(dataset) == tmp_path / "m.json" / "2026-v1" / "m.json"
    assert saved_path(dataset).is_file()


def test_filepath_of_a_file_dataset(tmp_path):
    assert Path(filepath(CSVDataset(filepath=str(tmp_path / "x.csv")))) == tmp_path / "x.csv"
