"""End-to-end: the user's own table, straight in: text, gaps, odd columns; and bad tables,
each refused in one message before any training, with nothing overwritten."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parallel_trees.datasets import read_table
from parallel_trees.sources import fingerprint
from tests.helpers.processes import METHOD, START_METHODS
from tests.helpers.project import PROJECT
from tests.helpers.tables import PENGUINS, iris_table, penguins

# R's row numbers, on the run's 118 training rows.
ROW_NUMBERS = (
    "named like an identifier, with 118 values in 118 training rows; to use it, set its role "
    "in column_roles"
)


class TestATableWithTextAndGaps:
    """The shared run on penguins.csv, under ParallelRunner (``own_table``)."""

    def test_text_and_missing_values_go_straight_in(self, own_table):
        assert (
            "Accuracy on penguins.csv (5-fold CV on 118 training rows; 30 held-out rows; higher "
            "is better):" in own_table.run.output
        )
        assert all(m["test_score"] > 0.8 for m in own_table.metrics["models"].values())

    def test_the_data_pages_example_is_this_run(self, own_table):
        """docs/data.md's example: the table's first lines, the command, what it prints."""
        page = (PROJECT / "docs/data.md").read_text()
        (block,) = re.findall(r"^```\n(\$ head -4 penguins.csv\n.*?)^```$", page, re.M | re.S)
        lines = block.replace("/home/me/parallel-trees", str(own_table.project.root)).splitlines()
        command = lines.index(next(line for line in lines if line.startswith("$ kedro")))
        table = (own_table.project.root / "penguins.csv").read_text().splitlines()
        assert lines[1:command] == table[:4]
        params = re.search(r'--params "(.*)"', lines[command]).group(1)
        assert sorted(params.split(",")) == sorted(PENGUINS.split(","))
        printed = own_table.run.output.splitlines()
        for shown in lines[command + 1 :]:
            pattern = ".*".join(re.escape(part) for part in shown.split("..."))
            assert any(re.fullmatch(pattern, line) for line in printed), shown

    def test_the_run_says_what_it_left_out_and_why(self, own_table):
        path = f"raw_data ({own_table.project.root / 'penguins.csv'})"
        lines = own_table.run.output.splitlines()
        assert f"Dropped 2 of 150 rows of {path}: no label in 'species' (lines 12, 79)" in lines
        assert f"Column 'Unnamed: 0' of {path} is left out: {ROW_NUMBERS}" in lines
        assert f"Column 'year' of {path} is left out: the same value on every row (2008)" in lines
        data = "Data: 148 rows, 5 feature columns (2 left out), 3 classes; 118 to train on"
        assert f"{data}, 30 held out" in lines

    def test_metrics_trace_the_run_to_its_table_and_its_columns(self, own_table):
        metrics = own_table.metrics
        path = own_table.project.root / "penguins.csv"
        assert metrics["run"]["data_source"] == {
            "entry": "raw_data",
            "type": "parallel_trees.datasets.CSVTableDataset",
            "path": str(path),
            "sha256": fingerprint(read_table(str(path))),  # of the table's content
        }
        assert metrics["run"]["target_column"] == "species"
        assert metrics["run"]["feature_roles"] == {
            "numeric": ["bill_length_mm", "flipper_length_mm"],
            "categorical": ["island", "sex", "tagged"],
            "many_levels": [],
            "excluded": {
                "Unnamed: 0": ROW_NUMBERS,
                "year": "the same value on every row (2008)",
            },
        }

    def test_held_out_predictions_keep_the_label_columns_name(self, own_table):
        table = pd.read_csv(own_table.saved("data/07_model_output/test_predictions.csv"))
        assert table.columns.tolist() == ["row", "species", "random_forest", "xgboost"]

    def test_each_model_gets_an_importance_per_column_of_the_table(self, own_table):
        chart = json.loads(own_table.saved("data/08_reporting/feature_importance.json").read_text())
        assert [bar["name"] for bar in chart["data"]] == ["Random Forest", "XGBoost"]
        assert set(chart["data"][0]["y"]) == {
            "bill_length_mm",
            "flipper_length_mm",
            "island",
            "sex",
            "tagged",
        }
        assert (
            "held-out rows; error bars: ± 1 std over 5 shuffles" in chart["layout"]["title"]["text"]
        )


OTHER_METHODS = [m for m in START_METHODS if m != METHOD] or [
    pytest.param(
        None,
        marks=pytest.mark.skip(reason="compared under make test, where the shared run is fork's"),
    )
]


@pytest.mark.processes
@pytest.mark.parametrize("method", OTHER_METHODS)
def test_every_start_method_gives_the_same_scores(own_table, project, method):
    """A run of its own under each other start method, compared with the shared one
    (under ``make test``; CI's other Pythons each run the shared one under theirs)."""
    penguins().to_csv(project.root / "penguins.csv", index_label="")
    run = project.kedro(
        "run", "--runner=ParallelRunner", "--params", PENGUINS, env={"KEDRO_MP_CONTEXT": method}
    )
    assert run.returncode == 0, run.output
    ((metrics,), expected) = project.metrics(), own_table.metrics
    for model in ("random_forest", "xgboost"):
        for key in ("cv_scores", "test_score", "test_panel"):
            assert metrics["models"][model][key] == expected["models"][model][key]


class TestYourOwnCsv:
    def test_three_steps_file_two_parameters_run(self, project):
        table = iris_table()
        table.to_csv(project.root / "data/01_raw/dataset.csv", index=False)

        run = project.in_process("run", "--params", "dataset=raw_data,target_column=species")

        assert run.returncode == 0, run.output
        (metrics,) = project.metrics()
        assert metrics["run"]["dataset"] == "raw_data"
        assert metrics["run"]["classes"] == ["setosa", "versicolor", "virginica"]
        assert metrics["run"]["rows"] == 150
        table = pd.read_csv(
            project.latest("data/07_model_output/test_predictions.csv"), index_col="row"
        )
        assert set(table["species"]) == {"setosa", "versicolor", "virginica"}
        assert set(table["xgboost"]) <= set(table["species"])
        # Each held-out row keeps its index in the user's file, and its class.
        assert (table["species"] == iris_table().loc[table.index, "species"]).all()

    def test_an_identifier_in_all_but_name_is_left_out_and_a_small_code_kept(self, project):
        """A biopsy-like table: a patient ID with a few repeats, a store code that alone
        decides the class, a count that merely differs on every row."""
        rng = np.random.default_rng(5)
        rows = 200
        patient = rng.integers(1_000_000, 1_400_000, rows)
        patient[::10] = patient[1::10]  # 20 repeated visits: 180 values in 200 rows
        store = rng.integers(1, 6, rows)
        table = pd.DataFrame(
            {
                "ID": patient,
                "StoreID": store,
                "income": rng.permutation(np.arange(20_000, 20_000 + rows * 7, 7)),
                "label": np.where(store >= 3, "yes", "no"),
            }
        )
        table.to_csv(project.root / "data/01_raw/dataset.csv", index=False)

        run = project.in_process("run", "--params", "dataset=raw_data,target_column=label")

        assert run.returncode == 0, run.output
        path = f"raw_data ({project.root / 'data/01_raw/dataset.csv'})"
        (left_out,) = [line for line in run.output.splitlines() if "is left out" in line]
        assert re.fullmatch(
            rf"Column 'ID' of {re.escape(path)} is left out: named like an identifier, with "
            r"\d+ values in 160 training rows; to use it, set its role in column_roles",
            left_out,
        )
        assert (
            "Data: 200 rows, 2 feature columns (1 left out), 2 classes; 160 to train on, "
            "40 held out" in run.output
        )
        (metrics,) = project.metrics()
        assert metrics["run"]["feature_roles"]["numeric"] == ["StoreID", "income"]
        assert all(m["test_score"] == 1.0 for m in metrics["models"].values())

    def test_csv_path_reads_another_file_for_one_run(self, project, tmp_path):
        table = iris_table().assign(species=lambda t: t["species"].map({"setosa": 10}).fillna(20))
        table.to_csv(tmp_path / "mine.csv", index=False)
        run = project.in_process(
            "run", "--params", f"dataset=csv,target_column=species,csv_path={tmp_path}/mine.csv"
        )
        assert run.returncode == 0, run.output
        (metrics,) = project.metrics()
        assert metrics["run"]["classes"] == [10.0, 20.0]
        # csv, the earlier name of raw_data, still works, with one line saying so.
        assert metrics["run"]["dataset"] == "raw_data"
        assert run.output.splitlines()[0] == (
            "dataset: csv (set in --params) is now called raw_data; csv still works."
        )


def _write(table: pd.DataFrame | None = None, raw: bytes | None = None) -> Callable:
    def write(path: Path) -> None:
        if raw is not None:
            path.write_bytes(raw)
        elif table is not None:
            table.to_csv(path, index=False)

    return write


IRIS = iris_table()
BAD_INPUT = {
    "missing file": (
        _write(),
        "",
        "data/01_raw/dataset.csv does not exist. Put your table there, or point --params "
        "csv_path=<path> at it (a CSV file), or raw_data in conf/local/catalog.yml at any other "
        "(README: Where your table lives).",
    ),
    "misspelled target column": (
        _write(IRIS),
        "target_column=specie",
        "data/01_raw/dataset.csv). Did you mean 'species'? Its columns: sepal length (cm), "
        "sepal width (cm), petal length (cm), petal width (cm), species.",
    ),
    "infinite value": (
        _write(IRIS.assign(**{"sepal width (cm)": [1.0] * 5 + [float("inf")] + [1.0] * 144})),
        "",
        "has values the models cannot take, infinite or beyond ±3.4e+38 (float32, which the "
        "models compute in): 'sepal width (cm)' in 1 rows (line 7). Scale those columns",
    ),
    "single class": (
        _write(IRIS.assign(species="setosa")),
        "",
        "has a single class ('setosa'): a classifier needs rows of at least two classes",
    ),
    "class with fewer rows than cv_folds": (
        _write(IRIS.iloc[:105]),  # 5 virginica rows, of which 4 go to training
        "",
        "cv_folds = 5 is more than the 4 training rows of the smallest class, 'virginica'; "
        "set cv_folds to at most 4",
    ),
    "class with a single row": (
        _write(IRIS.iloc[:101]),  # stratified splits and k-fold CV both need 2 rows
        "",
        "data/01_raw/dataset.csv) has classes with fewer than 2 rows: 'virginica' (1 row: line "
        "102); cross-validation needs at least 2 rows of every class (cv_folds >= 2). Add rows "
        "of those classes, or drop their rows.",
    ),
    "test_size too large": (
        _write(IRIS),
        "test_size=0.99",
        "test_size = 0.99 holds out 149 of 150 rows and leaves 1 for training, too few to "
        "surely keep 2 training rows of every class, the fewest cross-validation needs "
        "(cv_folds >= 2); set test_size between 0.02 and 0.96, or to 0 for no held-out part.",
    ),
    "text target for task=regression": (
        _write(IRIS),
        "task=regression",
        "data/01_raw/dataset.csv) holds text such as 'setosa': only numbers can be regressed. "
        "Set task to classification (or auto), or choose a numeric target_column.",
    ),
    "empty file": (
        _write(raw=b""),
        "",
        "data/01_raw/dataset.csv is empty: it needs a header row naming the columns, then rows.",
    ),
    "header only": (_write(IRIS.iloc[:0]), "", "has a header row but no data rows"),
    "not a CSV file": (
        _write(raw=bytes(range(256)) * 20),
        "",
        "data/01_raw/dataset.csv could not be read as a CSV file: 'utf-8' codec can't decode",
    ),
}
# Refused in a worker process under ParallelRunner: a node's own check, and the dataset's.
IN_A_WORKER = ["misspelled target column", "not a CSV file"]


def refuse(kept, case: str, parallel: bool = False):
    """A run of ``kept``'s project on the bad table ``case``."""
    write, extra, _ = BAD_INPUT[case]
    path = kept.project.root / "data/01_raw/dataset.csv"
    path.unlink(missing_ok=True)
    write(path)
    params = ",".join(p for p in ("dataset=raw_data,target_column=species", extra) if p)
    if parallel:
        return kept.project.kedro("run", "--runner=ParallelRunner", "--params", params)
    return kept.project.in_process("run", "--params", params)


def assert_refused_before_training(kept, case: str, run) -> None:
    assert run.returncode == 1, run.output
    assert BAD_INPUT[case][2] in run.output
    assert len(run.errors()) == 1, run.output
    assert "Traceback" not in run.output
    assert not re.search(r"evaluate_folds|fit_model", run.output)  # no training started
    kept.assert_nothing_kept()


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_a_bad_table_gets_one_clear_message_before_training_and_nothing_overwritten(kept, case):
    assert_refused_before_training(kept, case, refuse(kept, case))


@pytest.mark.processes
@pytest.mark.parametrize("case", IN_A_WORKER)
def test_a_bad_table_refused_in_a_worker_gets_the_same_message(kept, case):
    assert_refused_before_training(kept, case, refuse(kept, case, parallel=True))


def test_debug_logging_shows_the_traceback(kept, tmp_path):
    logging_yml = (kept.project.root / "conf/logging.yml").read_text()
    debug = tmp_path / "logging.yml"
    debug.write_text(
        logging_yml.replace("parallel_trees:\n    level: INFO", "parallel_trees:\n    level: DEBUG")
    )
    run = kept.project.in_process(
        "run",
        "--params",
        "random_forest.max_features=bogus",
        env={"KEDRO_LOGGING_CONFIG": str(debug)},
    )
    assert run.returncode == 1
    assert "Traceback" in run.output
    assert "InvalidParameterError" in run.output
    assert "Error: Random Forest (random_forest) could not be trained" in run.output
    kept.assert_nothing_kept()
