"""End-to-end: predictions for new rows, with the models of the shared run on penguins.csv.

The predict pipeline starts no workers: every run here is in process.
"""

import re

import pandas as pd
import pytest

from tests.helpers.project import ProjectCopy

PREDICTIONS = "data/07_model_output/predictions.csv"


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
