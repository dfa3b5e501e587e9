"""The project's datasets: a user's CSV file, a user's table from any dataset, the model of
the last training run, and the charts and tables of a run."""

import json
import pickle
import re
import sqlite3

import pandas as pd
import plotly.graph_objects as go
import pytest
from kedro.io import DatasetError, MemoryDataset, Version
from kedro_datasets.pandas import CSVDataset, ParquetDataset, SQLQueryDataset, SQLTableDataset

from parallel_trees.datasets import (
    CSVTableDataset,
    FigureDataset,
    LocalCSVDataset,
    TrainedModelDataset,
    UserTableDataset,
    separator,
)
from parallel_trees.errors import DataError
from parallel_trees.sources import fingerprint


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
        assert table.columns.tolist() == ["bill length", "island", "species"]
        assert table["bill length"].tolist() == [39.1, 46.5]

    @pytest.mark.parametrize(
        ("suffix", "kind", "dataset"),
        [
            ("parquet", "a Parquet file", "pandas.ParquetDataset"),
            ("xlsx", "a zip archive, as an Excel .xlsx file is", "pandas.ExcelDataset"),
            ("db", "a SQLite database", "pandas.SQLTableDataset"),
        ],
    )
    def test_a_table_file_that_is_not_text_says_which_dataset_reads_it(
        self, tmp_path, suffix, kind, dataset
    ):
        path = tmp_path / f"penguins.{suffix}"
        if suffix == "parquet":
            FRAME.to_parquet(path)
        elif suffix == "xlsx":
            FRAME.to_excel(path, index=False)
        else:
            _database(tmp_path).removeprefix("sqlite:///")
            path = tmp_path / "tables.db"
        assert load_error(CSVTableDataset(str(path))) == (
            f"{path} is {kind}, not a CSV file: declare it in conf/local/catalog.yml as "
            f"{dataset} (README: Where your table lives)."
        )

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


# Numbers with a gap, text with a gap, true/false (which SQLite keeps as 0/1).
FRAME = pd.DataFrame(
    {
        "bill": [39.1, 46.5, None],
        "species": ["Adelie", "Gentoo", None],
        "tagged": [True, False, True],
    }
)
PASSWORD = "s3cret-Pa55"


def _database(tmp_path) -> str:
    """A SQLite file holding FRAME as the table penguins; its SQLAlchemy URL."""
    path = tmp_path / "tables.db"
    with sqlite3.connect(path) as connection:
        FRAME.to_sql("penguins", connection, index=False)
    return f"sqlite:///{path}"


def table_error(dataset) -> str:
    """The one-line ``DataError`` a ``UserTableDataset`` of ``dataset`` gives when loaded."""
    message = load_error(UserTableDataset(dataset, "raw_data"))
    assert "\n" not in message
    return message


class TestUserTable:
    def test_any_dataset_of_a_dataframe_gives_a_table_fingerprinted_by_its_content(self, tmp_path):
        FRAME.to_csv(tmp_path / "p.csv", index=False)
        FRAME.to_parquet(tmp_path / "p.parquet")
        url = _database(tmp_path)
        datasets = {
            "pandas.CSVDataset": CSVDataset(filepath=str(tmp_path / "p.csv")),
            "pandas.ParquetDataset": ParquetDataset(filepath=str(tmp_path / "p.parquet")),
            "pandas.SQLTableDataset": SQLTableDataset(
                table_name="penguins", credentials={"con": url}
            ),
            "pandas.SQLQueryDataset": SQLQueryDataset(
                sql="SELECT * FROM penguins", credentials={"con": url}
            ),
        }
        reads = [("path", tmp_path / "p.csv"), ("path", tmp_path / "p.parquet")]
        reads += [("table", "penguins"), ("query", "SELECT * FROM penguins")]
        for (kind, dataset), (key, value) in zip(datasets.items(), reads, strict=True):
            table = UserTableDataset(dataset, "raw_data").load()
            pd.testing.assert_frame_equal(table.data, FRAME, check_dtype=False)
            assert table.source == {
                "entry": "raw_data",
                "type": kind,
                key: str(value),
                **({"database": url} if kind.startswith("pandas.SQL") else {}),
                "sha256": fingerprint(FRAME),  # the same rows: the same fingerprint
            }

    def test_rows_are_numbered_from_0_whatever_the_index(self):
        indexed = FRAME.set_index(pd.Index([10, 20, 30], name="id"))
        table = UserTableDataset(MemoryDataset(indexed), "new_rows").load()
        assert table.data.index.tolist() == [0, 1, 2]
        assert table.source["type"] == "MemoryDataset"

    @pytest.mark.parametrize(
        ("data", "gave"),
        [({"Sheet1": FRAME}, "dict"), ([1, 2], "list"), (FRAME.to_numpy(), "ndarray")],
    )
    def test_a_dataset_that_gives_no_dataframe_is_one_error_naming_it(self, data, gave):
        message = table_error(MemoryDataset(data, copy_mode="assign"))
        assert message.startswith(
            f"raw_data (MemoryDataset) gave a {gave}, not a table: point raw_data at a dataset "
            "that loads one pandas DataFrame"
        )

    def test_a_missing_table_and_a_failed_query_are_one_error_each(self, tmp_path):
        url = _database(tmp_path)
        missing = SQLTableDataset(table_name="pengiuns", credentials={"con": url})
        assert table_error(missing) == (
            "raw_data (table 'pengiuns') could not be read (pandas.SQLTableDataset): Table "
            "pengiuns not found."
        )
        failed = SQLQueryDataset(sql="SELECT bil FROM penguins", credentials={"con": url})
        assert table_error(failed) == (
            "raw_data (query 'SELECT bil FROM penguins') could not be read "
            "(pandas.SQLQueryDataset): no such column: bil."
        )

    def test_credentials_are_in_no_description_and_no_error(self):
        con = f"postgresql+psycopg://trees:{PASSWORD}@127.0.0.1:1/tables"
        dataset = UserTableDataset(SQLTableDataset(table_name="t", credentials={"con": con}), "x")
        assert PASSWORD not in repr(dataset) + str(dataset.source)
        assert dataset.source["database"] == "postgresql+psycopg://127.0.0.1:1/tables"
        message = load_error(dataset)  # nothing listens on port 1
        assert message.startswith("x (table 't') could not be read (pandas.SQLTableDataset): ")
        assert PASSWORD not in message

    def test_the_own_csv_datasets_errors_name_the_entry(self, tmp_path):
        (tmp_path / "e.csv").write_bytes(b"")
        assert table_error(CSVTableDataset(str(tmp_path / "e.csv"))).startswith(
            f"raw_data: {tmp_path / 'e.csv'} is empty"
        )

    def test_it_only_reads(self):
        with pytest.raises(DatasetError, match="is the user's table: this project only reads it"):
            UserTableDataset(MemoryDataset(FRAME), "raw_data").save(FRAME)


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


def _dataset(root, model="best", run="latest"):
    return TrainedModelDataset(str(root / "metrics.json"), str(root / "models"), model, run)


class TestTrainedModel:
    def test_best_is_the_top_of_the_latest_runs_ranking_read_from_that_run(self, tmp_path):
        _training_run(tmp_path, "2026-01-01T10.00.00.000Z", "forest", ["forest", "boost"])
        _training_run(tmp_path, "2026-01-02T10.00.00.000Z", "boost", ["forest", "boost"])
        trained = _dataset(tmp_path).load()
        assert (trained.name, trained.display_name) == ("boost", "Boost")
        assert trained.version == "2026-01-02T10.00.00.000Z"
        assert trained.model == {"model": "boost", "version": trained.version}
        assert trained.run == {"classes": ["a", "b"]}

    def test_a_run_can_be_chosen_by_its_version_and_best_is_that_runs(self, tmp_path):
        first, second = "2026-01-01T10.00.00.000Z", "2026-01-02T10.00.00.000Z"
        _training_run(tmp_path, first, "forest", ["forest", "boost"])
        _training_run(tmp_path, second, "boost", ["forest", "boost"])
        trained = _dataset(tmp_path, run=first).load()
        assert (trained.version, trained.name) == (first, "forest")
        assert _dataset(tmp_path, "boost", first).load().model == {
            "model": "boost",
            "version": first,
        }

    def test_an_unknown_run_names_the_latest_runs(self, tmp_path):
        for day in range(1, 8):
            _training_run(tmp_path, f"2026-01-0{day}T10.00.00.000Z", "forest", ["forest"])
        message = load_error(_dataset(tmp_path, run="2026-01-09T10.00.00.000Z"))
        assert message.startswith(
            "run = '2026-01-09T10.00.00.000Z' is not a complete training run: none saved "
        )
        assert message.endswith(
            "The latest: 2026-01-07T10.00.00.000Z, 2026-01-06T10.00.00.000Z, "
            "2026-01-05T10.00.00.000Z, 2026-01-04T10.00.00.000Z, 2026-01-03T10.00.00.000Z "
            "(or run=latest)."
        )

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
        dataset = LocalCSVDataset(  # test_predictions in conf/base/catalog.yml
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
        dataset = LocalCSVDataset(filepath=str(tmp_path / "rows.csv"))
        dataset.save(pd.DataFrame({"x": [1, 2]}, index=[5, 6]))
        assert (tmp_path / "rows.csv").read_text().splitlines() == ["x", "1", "2"]
