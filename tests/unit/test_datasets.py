"""The project's datasets: a user's CSV file, the model of the last training run, the
charts and tables of a run, and the files through which ParallelRunner's workers hand
data to each other."""

import hashlib
import json
import multiprocessing
import os
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from kedro.io import DataCatalog, DatasetError, Version

from parallel_trees.datasets import (
    CSVDataset,
    CSVTableDataset,
    FigureDataset,
    SharedFileDataset,
    TrainedModelDataset,
    separator,
)
from parallel_trees.errors import DataError
from parallel_trees.hooks.run_guard import _explain


def load_error(dataset) -> str:
    """The ``DataError`` a dataset met while loading (Kedro wraps it in a ``DatasetError``)."""
    with pytest.raises(DatasetError) as error:
        dataset.load()
    assert isinstance(error.value.__cause__, DataError)
    return str(error.value.__cause__)


class TestCSVTable:
    @pytest.mark.parametrize(
        ("header", "sep"),
        [
            ("bill length,island name,species", ","),
            ("bill length;island name;species", ";"),
            ("bill length\tisland name\tspecies", "\t"),
            ("a|b|c", "|"),
            ("species", ","),  # one column: no separator to find
        ],
    )
    def test_the_separator_is_the_one_the_header_holds_most_of(self, header, sep):
        assert separator(header) == sep

    def test_a_semicolon_export_is_read_with_its_decimal_comma(self, tmp_path):
        path = tmp_path / "penguins.csv"
        path.write_text("bill length;island;species\n39,1;Torgersen;Adelie\n46,5;Dream;Gentoo\n")
        table = CSVTableDataset(str(path)).load()
        assert table.data.columns.tolist() == ["bill length", "island", "species"]
        assert table.data["bill length"].tolist() == [39.1, 46.5]

    def test_the_table_knows_its_file_and_the_hash_of_its_bytes(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_bytes(b"a,b\n1,x\n")
        table = CSVTableDataset(str(path)).load()
        assert table.path == str(path)
        assert table.sha256 == hashlib.sha256(b"a,b\n1,x\n").hexdigest()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "is empty: it needs a header row naming the columns, then rows."),
            (b"\n\n", "is empty"),
            (b'a,b\n1,"x\n', "could not be read as a CSV file"),
        ],
    )
    def test_an_unreadable_file_is_named(self, tmp_path, content, message):
        path = tmp_path / "new.csv"
        path.write_bytes(content)
        assert re.match(f"{path} .*{message}", load_error(CSVTableDataset(str(path))))

    def test_it_exists_when_its_file_does(self, tmp_path):
        assert not CSVTableDataset(str(tmp_path / "no.csv")).exists()


def _training_run(root, version, best, models):
    """The files a training run saves that predicting reads."""
    metrics = root / "metrics.json" / version / "metrics.json"
    metrics.parent.mkdir(parents=True)
    record = {
        "run": {"classes": ["a", "b"]},
        "models": {m: {"display_name": m.title()} for m in models},
        "ranking": [{"model": best}],
    }
    metrics.write_text(json.dumps(record))
    for model in models:
        path = root / "models" / f"{model}.pkl" / version / f"{model}.pkl"
        path.parent.mkdir(parents=True)
        path.write_bytes(pickle.dumps({"model": model, "version": version}))


def _dataset(root, model="best"):
    return TrainedModelDataset(str(root / "metrics.json"), str(root / "models"), model)


class TestTrainedModel:
    def test_best_is_the_top_of_the_latest_runs_ranking_read_from_that_run(self, tmp_path):
        _training_run(tmp_path, "2026-01-01T10.00.00.000Z", "forest", ["forest", "boost"])
        _training_run(tmp_path, "2026-01-02T10.00.00.000Z", "boost", ["forest", "boost"])
        trained = _dataset(tmp_path).load()
        assert (trained.name, trained.display_name) == ("boost", "Boost")
        assert trained.version == "2026-01-02T10.00.00.000Z"
        assert trained.model == {"model": "boost", "version": trained.version}
        assert trained.run == {"classes": ["a", "b"]}

    def test_a_model_can_be_named(self, tmp_path):
        _training_run(tmp_path, "2026-01-01T10.00.00.000Z", "boost", ["forest", "boost"])
        assert _dataset(tmp_path, "forest").load().model["model"] == "forest"

    def test_no_training_run_yet_says_to_train_first(self, tmp_path):
        assert not _dataset(tmp_path).exists()
        assert re.match(
            "No training run yet: .* Train the models first", load_error(_dataset(tmp_path))
        )

    def test_a_model_the_run_did_not_train_names_those_it_did(self, tmp_path):
        _training_run(tmp_path, "2026-01-01T10.00.00.000Z", "forest", ["forest"])
        assert re.match(
            "model = 'boost': the training run .* trained forest; set model to one of them",
            load_error(_dataset(tmp_path, "boost")),
        )


class TestFigure:
    def test_a_figure_dict_is_written_as_plotly_writes_it_and_loads_as_a_figure(self, tmp_path):
        figure = {
            "data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2.5], "name": "accuracy"}],
            "layout": {"title": {"text": "A chart"}, "yaxis": {"range": [0, 3]}},
        }
        version = Version(None, "2026-11-29T18.00.00.000Z")
        dataset = FigureDataset(filepath=str(tmp_path / "chart.json"), version=version)
        dataset.save(figure)
        [path] = tmp_path.glob("chart.json/*/chart.json")  # versioned, as in the catalog
        written = json.loads(path.read_text())
        assert written == json.loads(go.Figure(figure).to_json())  # plotly's template too
        assert dataset.load() == go.Figure(figure)
        assert dataset.preview() == written  # what kedro-viz draws


class TestCSV:
    def test_a_table_round_trips_with_its_row_ids_as_the_catalog_keeps_it(self, tmp_path):
        table = pd.DataFrame(
            {"target": ["a", "b", "c"], "xgboost": ["a", "a", "c"]},
            index=pd.Index([7, 3, 9], name="row"),
        )
        dataset = CSVDataset(  # test_predictions in conf/base/catalog.yml
            filepath=str(tmp_path / "predictions.csv"),
            load_args={"index_col": "row"},
            save_args={"index": True},
            version=Version(None, None),
        )
        assert not dataset.exists()
        dataset.save(table)
        [path] = tmp_path.glob("predictions.csv/*/predictions.csv")
        assert path.read_text().splitlines()[:2] == ["row,target,xgboost", "7,a,a"]
        assert dataset.exists()
        pd.testing.assert_frame_equal(dataset.load(), table)
        assert dataset.preview(nrows=2) == {  # kedro-viz's table
            "index": [7, 3],
            "columns": ["target", "xgboost"],
            "data": [["a", "a"], ["b", "a"]],
        }

    def test_without_save_args_no_index_is_written(self, tmp_path):
        dataset = CSVDataset(filepath=str(tmp_path / "rows.csv"))
        dataset.save(pd.DataFrame({"x": [1, 2]}, index=[5, 6]))
        assert (tmp_path / "rows.csv").read_text().splitlines() == ["x", "1", "2"]


def mapped_from(array: np.ndarray, path: Path) -> bool:
    """Whether ``array``'s data is in this process's mapping of the file ``path``."""
    address = array.__array_interface__["data"][0]
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *_, name = line.split(maxsplit=5)
        start, end = (int(x, 16) for x in span.split("-"))
        if name == str(path) and start <= address < end:
            return True
    return False


def load_in_another_process(path: Path) -> tuple[int, bool, float]:
    """Load ``path``'s features there: its pid, whether they are mapped from the file, a sum."""
    features = SharedFileDataset(str(path)).load()["features"]
    return os.getpid(), mapped_from(features, path), float(features.sum())


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
class TestSharedFile:
    def test_arrays_are_read_only_views_of_the_file_in_every_process(self, tmp_path):
        path = tmp_path / "split"
        features = np.arange(60_000, dtype=np.float64).reshape(3_000, 20)
        SharedFileDataset(str(path)).save({"features": features, "name": "x"})

        loaded = SharedFileDataset(str(path)).load()["features"]
        again = SharedFileDataset(str(path)).load()["features"]
        np.testing.assert_array_equal(loaded, features)
        assert mapped_from(loaded, path) and mapped_from(again, path)  # not copies
        assert not loaded.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            loaded[0, 0] = 1.0
        # Another process maps the same file (the same pages), whatever starts it.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pid, mapped, total = pool.submit(load_in_another_process, path).result()
        assert pid != os.getpid() and mapped and total == features.sum()

    def test_data_frames_keep_their_dtypes_text_categories_and_missing_values(self, tmp_path):
        frame = pd.DataFrame(
            {
                "length": [1.5, np.nan, 3.25],
                "count": np.array([1, 2, 3], dtype=np.int32),
                "island": ["Biscoe", None, "Dream"],
                "species": pd.Categorical(["a", "b", "a"]),
                "seen": [True, False, True],
            },
            index=[10, 20, 30],
        )
        dataset = SharedFileDataset(str(tmp_path / "table"))
        dataset.save(frame)
        loaded = dataset.load()
        pd.testing.assert_frame_equal(loaded, frame)
        # pandas copies on write: changing a loaded frame changes a copy, never the file.
        loaded.loc[10, "length"] = 0.0
        assert dataset.load().loc[10, "length"] == 1.5

    def test_plain_objects_and_empty_arrays_round_trip(self, tmp_path):
        data = {"classes": ["setosa", "virginica"], "folds": [(np.arange(3), np.arange(0))]}
        dataset = SharedFileDataset(str(tmp_path / "objects"))
        dataset.save(data)
        loaded = dataset.load()
        assert loaded["classes"] == data["classes"]
        np.testing.assert_array_equal(loaded["folds"][0][0], np.arange(3))
        assert loaded["folds"][0][1].size == 0

    def test_releasing_deletes_the_file_and_leaves_loaded_data_readable(self, tmp_path):
        path = tmp_path / "split"
        dataset = SharedFileDataset(str(path))
        dataset.save(np.ones(1_000))
        loaded = dataset.load()
        assert dataset.exists()
        dataset.release()
        assert not path.exists() and not dataset.exists()
        assert loaded.sum() == 1_000  # its pages stay until nothing maps them
        assert list(tmp_path.iterdir()) == []  # nor a half-written file left

    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (macOS)")
    def test_a_full_file_system_is_one_message_and_leaves_no_file(self, tmp_path):
        # The kernel's own "no space left on device": the file being written is /dev/full.
        folder = tmp_path / "parallel-trees-data-1-0123456789ab"
        folder.mkdir()
        (folder / f"X_train.{os.getpid()}.partial").symlink_to("/dev/full")
        catalog = DataCatalog({"X_train": SharedFileDataset(str(folder / "X_train"))})
        with pytest.raises(DatasetError) as error:
            catalog.save("X_train", np.ones((1_000, 20)))
        # What crosses from a worker: the message, not the cause (as test_run_guard's).
        explained = _explain(pickle.loads(pickle.dumps(error.value)), None, {})
        assert str(explained).startswith(
            f"No room for the run's shared data: X_train needs 0.2 MB in {tmp_path}, which has "
        )
        assert str(explained).endswith(
            "Free space there, or use fewer rows; --runner=SequentialRunner keeps the data in "
            "memory instead."
        )
        assert list(folder.iterdir()) == []  # neither the file nor a half-written one
