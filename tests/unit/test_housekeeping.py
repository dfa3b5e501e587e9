"""Pruning old runs (``kedro prune``): which versions are found, kept and removed, on folders
laid out as Kedro saves versions."""

from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset, Version
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset

from parallel_trees.housekeeping import (
    dataset_folders,
    megabytes,
    remove,
    saved_versions,
    to_remove,
)

# Version names as Kedro makes them, oldest first.
V = [f"2026-11-29T14.50.{second:02}.016Z" for second in range(10)]


def save(folder: Path, version: str, size: int) -> None:
    """A file of ``size`` bytes in ``version`` of the dataset at ``folder``, as Kedro saves it."""
    path = folder / version / folder.name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * size)


@pytest.fixture
def data(tmp_path) -> dict[str, Path]:
    """Three training runs (V[0..2]: metrics.json and a model), then three predict runs
    (V[3..5]: predictions.csv only)."""
    folders = {
        name: tmp_path / layer / name
        for layer, name in [
            ("08_reporting", "metrics.json"),
            ("06_models", "xgboost.pkl"),
            ("07_model_output", "predictions.csv"),
        ]
    }
    for version in V[:3]:
        save(folders["metrics.json"], version, 1_000)
        save(folders["xgboost.pkl"], version, 200_000)
    for version in V[3:6]:
        save(folders["predictions.csv"], version, 50)
    return folders


def names(versions) -> list[str]:
    return [version.name for version in versions]


class TestSavedVersions:
    def test_a_version_is_every_folder_of_its_name_oldest_first(self, data):
        versions = saved_versions(data.values())
        assert names(versions) == V[:6]
        assert versions[0].folders == (
            data["metrics.json"] / V[0],
            data["xgboost.pkl"] / V[0],
        )
        assert versions[5].folders == (data["predictions.csv"] / V[5],)

    def test_its_size_is_its_files_bytes_in_every_dataset(self, data):
        save(data["xgboost.pkl"], f"{V[0]}/nested", 7)  # a file deeper down counts too
        sizes = [version.size for version in saved_versions(data.values())]
        assert sizes == [201_007, 201_000, 201_000, 50, 50, 50]

    def test_only_folders_named_as_kedro_names_versions_count(self, data):
        (data["metrics.json"] / "notes").mkdir()
        (data["metrics.json"] / "2026-11-29").mkdir()
        (data["metrics.json"] / V[9]).write_text("a file, not a version folder")
        assert (
            names(saved_versions([*data.values(), data["metrics.json"].parent / "none"])) == (V[:6])
        )

    def test_an_empty_version_folder_is_a_version_of_no_bytes(self, data):
        (data["metrics.json"] / V[7]).mkdir()
        (version,) = [v for v in saved_versions(data.values()) if v.name == V[7]]
        assert version.size == 0


class TestToRemove:
    def test_all_but_the_newest_n(self, data):
        versions = saved_versions(data.values())
        assert names(to_remove(versions, 4, protected=None)) == V[:2]
        assert names(to_remove(versions, 1, protected=None)) == V[:5]

    def test_never_the_run_predict_uses_though_the_newest_n_are_all_predict_runs(self, data):
        versions = saved_versions(data.values())
        assert names(to_remove(versions, 3, protected=V[2])) == V[:2]
        assert names(to_remove(versions, 1, protected=V[2])) == [V[0], V[1], V[3], V[4]]

    def test_nothing_when_there_are_n_or_fewer(self, data):
        versions = saved_versions(data.values())
        assert to_remove(versions, 6, protected=V[2]) == []
        assert to_remove(versions, 10, protected=None) == []
        assert to_remove([], 5, protected=None) == []

    def test_choosing_removes_nothing(self, data):
        before = sorted(data["metrics.json"].parent.parent.rglob("*"))
        to_remove(saved_versions(data.values()), 1, protected=None)
        assert sorted(data["metrics.json"].parent.parent.rglob("*")) == before


def test_remove_deletes_its_folder_in_every_dataset_and_nothing_else(data):
    remove(saved_versions(data.values())[0])
    assert names(saved_versions(data.values())) == V[1:6]
    assert not (data["metrics.json"] / V[0]).exists()
    assert not (data["xgboost.pkl"] / V[0]).exists()


def test_a_dataset_folder_that_remove_empties_stays(data):
    for version in saved_versions([data["predictions.csv"]]):
        remove(version)
    assert data["predictions.csv"].is_dir()
    assert list(data["predictions.csv"].iterdir()) == []


def test_dataset_folders_are_those_of_the_versioned_datasets_on_this_machine(tmp_path):
    versioned = {"versioned": True}
    catalog = DataCatalog.from_config(
        {
            "metrics": {"type": "json.JSONDataset", "filepath": str(tmp_path / "m.json")}
            | versioned,
            "{namespace}.model": {
                "type": "pickle.PickleDataset",
                "filepath": str(tmp_path / "{namespace}.pkl"),
            }
            | versioned,
            "table": {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "t.csv")},
        }
    )
    catalog["scores"] = MemoryDataset()
    catalog["remote"] = JSONDataset(filepath="memory://b/r.json", version=Version(None, None))
    catalog["copy"] = CSVDataset(filepath=str(tmp_path / "t.csv"))
    found = dataset_folders(
        catalog, ["metrics", "xgboost.model", "table", "scores", "remote", "copy", "unknown"]
    )
    assert found == [tmp_path / "m.json", tmp_path / "xgboost.pkl"]


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0.0 kB"),
        (50, "0.1 kB"),
        (99_949, "99.9 kB"),
        (100_000, "0.1 MB"),
        (71_340_000, "71.3 MB"),
    ],
)
def test_megabytes(size, shown):
    assert megabytes(size) == shown
