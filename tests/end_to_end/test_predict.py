"""End-to-end: predictions for new rows, with the models of the shared run on penguins.csv.

The predict pipeline starts no workers: every run here is in process.
"""

import json
import re
import shutil

import pandas as pd
import pytest

from tests.helpers.project import ProjectCopy

PREDICTIONS = "data/07_model_output/predictions.csv"
RECORD = "data/07_model_output/predictions.json"


def _set_field(line: str, field: int, value: str) -> str:
    fields = line.split(",")
    fields[field] = value
    return ",".join(fields)


def _write(project: ProjectCopy, name: str, lines: list[str]) -> str:
    (project.root / name).write_text("\n".join(lines) + "\n")
    return name


@pytest.fixture(scope="module")
def trained(own_table):
    """The project of the shared run on penguins.csv, and the lines of that file."""
    lines = (own_table.project.root / "penguins.csv").read_text().splitlines()
    return own_table, lines


def test_predicting_the_held_out_rows_gives_the_held_out_predictions(trained):
    shared, lines = trained
    project = shared.project
    held_out = pd.read_csv(shared.saved("data/07_model_output/test_predictions.csv"))
    rows = [lines[0]] + [lines[row + 1] for row in held_out["row"]]  # 1 header line
    new = _write(project, "held_out.csv", rows)
    best = shared.metrics["best"]
    for model, params in ((best, ""), ("xgboost", ",model=xgboost")):
        run = project.in_process(
            "run", "--pipelines=predict", "--params", f"predict_csv={new}{params}"
        )
        assert run.returncode == 0, run.output
        predicted = project.latest_table(PREDICTIONS)
        assert predicted["prediction"].tolist() == held_out[model].tolist()
        assert re.search(rf"with .* \({model}\) of the training run \S+, trained on ", run.output)
    assert predicted.columns.tolist()[-4:] == [
        "prediction",
        "probability_Adelie",
        "probability_Chinstrap",
        "probability_Gentoo",
    ]
    assert "Ignored the columns the model does not read: Unnamed: 0, species, year" in run.output
    assert "ParallelRunner" not in run.output  # no worker pool, no training
    assert len(project.metrics()) == 1


def test_a_semicolon_export_with_decimal_commas_predicts_the_same(trained):
    shared, lines = trained
    project = shared.project
    comma = _write(project, "comma.csv", lines[:21])
    semicolon = pd.read_csv(project.root / comma).to_csv(sep=";", decimal=",", index=False)
    (project.root / "semicolon.csv").write_text(semicolon)
    predictions = []
    for new in (comma, "semicolon.csv"):
        run = project.in_process("run", "--pipelines=predict", "--params", f"predict_csv={new}")
        assert run.returncode == 0, run.output
        predictions.append(project.latest_table(PREDICTIONS)["prediction"].tolist())
    assert predictions[0] == predictions[1] and len(predictions[0]) == 20


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            lambda lines: [re.sub(r",flipper_length_mm", "", lines[0]), lines[1]],
            "lacks the column 'flipper_length_mm', which the model reads.",
        ),
        (
            lambda lines: [lines[0], lines[1], _set_field(lines[2], 3, "unknown")],
            ": column 'bill_length_mm' was numeric in training, but line 3 holds 'unknown'.",
        ),
        (lambda lines: [""], "is empty: it needs a header row"),
        (lambda lines: [lines[0]], "has a header row but no data rows: nothing to predict."),
    ],
)
def test_bad_new_rows_get_one_error_line_and_nothing_is_written(trained, lines, message):
    shared, table = trained
    project = shared.project
    before = project.versions(PREDICTIONS)
    new = _write(project, "bad.csv", lines(table))
    run = project.in_process("run", "--pipelines=predict", "--params", f"predict_csv={new}")
    assert run.returncode == 1, run.output
    assert f"Error: new_rows ({project.root / new})" in run.output or (
        f"Error: new_rows: {project.root / new}" in run.output
    )
    assert message in run.output
    assert len(run.errors()) == 1, run.output
    assert "Traceback" not in run.output
    assert project.versions(PREDICTIONS) == before


def test_a_missing_file_is_named(trained):
    project = trained[0].project
    run = project.in_process("run", "--pipelines=predict", "--params", "predict_csv=nowhere.csv")
    assert run.returncode == 1
    assert run.errors() == [
        f"Error: {project.root / 'nowhere.csv'} does not exist: it should hold the rows to "
        "predict. Point --params predict_csv=<path> at it (a CSV file), or new_rows in "
        "conf/local/catalog.yml at any other."
    ]


def test_predicting_before_any_training_run_says_to_train_first(project):
    _write(project, "new.csv", ["a,b", "1,2"])
    run = project.in_process("run", "--pipelines=predict", "--params", "predict_csv=new.csv")
    assert run.returncode == 1
    assert "Error: No training run yet: " in run.output
    assert "Traceback" not in run.output
    assert project.versions(PREDICTIONS) == []


def test_the_predictions_record_says_what_made_them_and_the_unseen_values(trained):
    shared, lines = trained
    project = shared.project
    rows = [lines[0], *lines[1:6]]
    rows[2] = _set_field(rows[2], 2, "Atlantis")  # island
    rows[4] = _set_field(rows[4], 2, "Atlantis")
    rows[5] = _set_field(rows[5], 2, "Mars")
    new = _write(project, "unseen.csv", rows)
    run = project.in_process(
        "run", "--pipelines=predict", "--params", f"predict_csv={new},run={shared.version}"
    )
    assert run.returncode == 0, run.output
    line = (
        f"Column 'island' of new_rows ({project.root / new}): 2 values unseen in training, "
        "in 3 rows: 'Atlantis', 'Mars'"
    )
    assert line in run.output.splitlines()
    version = project.versions(PREDICTIONS)[-1].name
    record = json.loads((project.root / RECORD / version / "predictions.json").read_text())
    best = shared.metrics["best"]
    assert record["training_run"] == shared.version and record["model"] == best
    assert record["trained_on"] == shared.metrics["run"]["data_source"]
    assert record["new_rows"]["path"] == str(project.root / new)
    assert record["rows"] == 5
    assert record["unseen"] == {
        "island": {"values": 2, "rows": 3, "examples": ["Atlantis", "Mars"], "line": line}
    }
    assert len(project.latest_table(PREDICTIONS)) == 5


def test_an_unknown_run_is_refused_naming_the_latest(trained):
    shared, lines = trained
    project = shared.project
    new = _write(project, "some.csv", lines[:3])
    before = project.versions(PREDICTIONS)
    run = project.in_process(
        "run", "--pipelines=predict", "--params", f"predict_csv={new},run=2020-01-01T00.00.00.000Z"
    )
    assert run.returncode == 1
    assert run.errors() == [
        "Error: run = '2020-01-01T00.00.00.000Z' is not a complete training run: none saved "
        f"data/08_reporting/metrics.json/2020-01-01T00.00.00.000Z. The latest: {shared.version} "
        "(or run=latest)."
    ]
    assert project.versions(PREDICTIONS) == before


def test_after_training_on_another_table_the_error_names_the_run_and_run_picks_the_first(
    trained, project
):
    """A project of its own: it trains on iris after the penguins run (copied in)."""
    shared, lines = trained
    for folder in ("data/08_reporting/metrics.json", "data/06_models"):
        shutil.copytree(shared.project.root / folder, project.root / folder, dirs_exist_ok=True)
    assert project.in_process("run").returncode == 0  # iris, the default
    iris = project.metrics()[-1]
    new = _write(project, "penguins_new.csv", lines[:6])
    run = project.in_process("run", "--pipelines=predict", "--params", f"predict_csv={new}")
    assert run.returncode == 1
    (error,) = run.errors()
    assert error.startswith(f"Error: new_rows ({project.root / new}) lacks the columns ")
    assert error.endswith(
        f"The model is {iris['models'][iris['best']]['display_name']} ({iris['best']}) of the "
        f"training run {project.versions('data/08_reporting/metrics.json')[-1].name}, trained on "
        "the iris dataset; --params run=<version> predicts with another training run."
    )
    run = project.in_process(
        "run", "--pipelines=predict", "--params", f"predict_csv={new},run={shared.version}"
    )
    assert run.returncode == 0, run.output
    assert f"of the training run {shared.version}, trained on raw_data (" in run.output
    assert len(project.latest_table(PREDICTIONS)) == 5
