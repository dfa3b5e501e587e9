"""End-to-end: a real-looking table straight in, then predictions for new rows (the real CLI)."""

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ProjectCopy

CSV = "csv_path=penguins.csv,dataset=csv,target_column=species"
PREDICTIONS = "data/07_model_output/predictions.csv"


def penguins(rows: int = 150, seed: int = 3) -> pd.DataFrame:
    """A table like the penguin survey: text, NaN, R's row numbers, a constant, unlabelled rows."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], rows)
    island = np.where(
        species == "Gentoo",
        "Biscoe",
        np.where(species == "Chinstrap", "Dream", rng.choice(["Torgersen", "Dream"], rows)),
    ).astype(object)
    centre = np.select([species == "Adelie", species == "Chinstrap"], [38.8, 48.8], 47.5)
    table = pd.DataFrame(
        {
            "species": species,
            "island": island,
            "bill_length_mm": np.round(centre + rng.normal(0, 2.5, rows), 1),
            "flipper_length_mm": np.round(
                np.where(species == "Gentoo", 217, 192) + rng.normal(0, 6, rows)
            ).astype(int),
            "sex": rng.choice(["male", "female"], rows).astype(object),
            "tagged": rng.choice([True, False], rows),
            "year": 2008,
        }
    )
    table.loc[rng.choice(rows, 6, replace=False), "bill_length_mm"] = np.nan
    table.loc[rng.choice(rows, 9, replace=False), "sex"] = None
    table.loc[[10, 77], "species"] = None
    table.index += 1  # R writes its row numbers, from 1, under an empty header
    return table


def _set_field(line: str, field: int, value: str) -> str:
    fields = line.split(",")
    fields[field] = value
    return ",".join(fields)


def _write(project: ProjectCopy, name: str, lines: list[str]) -> str:
    (project.root / name).write_text("\n".join(lines) + "\n")
    return name


@pytest.fixture(scope="module")
def trained(module_project):
    """A ParallelRunner training run on penguins.csv; then the lines of that file."""
    penguins().to_csv(module_project.root / "penguins.csv", index_label="")
    run = module_project.kedro("run", "--runner=ParallelRunner", "--params", CSV)
    assert run.returncode == 0, run.output
    lines = (module_project.root / "penguins.csv").read_text().splitlines()
    return module_project, run, lines


def _latest(project: ProjectCopy, dataset: str) -> pd.DataFrame:
    name = dataset.rsplit("/", 1)[-1]
    return pd.read_csv(project.versions(dataset)[-1] / name)


class TestTraining:
    def test_text_and_missing_values_go_straight_in(self, trained):
        project, run, _ = trained
        assert "Accuracy on penguins.csv (5-fold CV on 118 training rows; 30 held-out rows):" in (
            run.output
        )
        (metrics,) = project.metrics()
        assert all(m["test_accuracy"] > 0.8 for m in metrics["models"].values())

    def test_the_run_says_what_it_left_out_and_why(self, trained):
        project, run, _ = trained
        path = project.root / "penguins.csv"
        lines = run.output.splitlines()
        assert f"Dropped 2 of 150 rows of {path}: no label in 'species' (lines 12, 79)" in lines
        assert (
            f"Column 'Unnamed: 0' of {path} is left out: a different value on every row "
            "(an identifier)" in lines
        )
        assert f"Column 'year' of {path} is left out: the same value on every row (2008)" in lines

    def test_metrics_trace_the_run_to_its_file_and_its_columns(self, trained):
        project, _, _ = trained
        (metrics,) = project.metrics()
        path = project.root / "penguins.csv"
        assert metrics["run"]["data_file"] == {
            "path": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        assert metrics["run"]["target_column"] == "species"
        assert metrics["run"]["feature_roles"] == {
            "numeric": ["bill_length_mm", "flipper_length_mm"],
            "categorical": ["island", "sex", "tagged"],
            "many_levels": [],
            "excluded": {
                "Unnamed: 0": "a different value on every row (an identifier)",
                "year": "the same value on every row (2008)",
            },
        }

    def test_held_out_predictions_keep_the_label_columns_name(self, trained):
        project, _, _ = trained
        table = _latest(project, "data/07_model_output/test_predictions.csv")
        assert table.columns.tolist() == ["row", "species", "random_forest", "xgboost"]

    def test_each_model_gets_an_importance_per_column_of_the_table(self, trained):
        project, _, _ = trained
        (version,) = project.versions("data/08_reporting/feature_importance.json")
        chart = json.loads((version / "feature_importance.json").read_text())
        assert [bar["name"] for bar in chart["data"]] == ["Random Forest", "XGBoost"]
        assert set(chart["data"][0]["y"]) == {
            "bill_length_mm",
            "flipper_length_mm",
            "island",
            "sex",
            "tagged",
        }
        assert "(held-out rows)" in chart["layout"]["title"]["text"]


@pytest.mark.parametrize("context", ["spawn", "forkserver"])
def test_every_start_method_gives_the_same_scores(trained, tmp_path, context):
    project = ProjectCopy(tmp_path / "parallel-trees")
    penguins().to_csv(project.root / "penguins.csv", index_label="")
    run = project.kedro(
        "run", "--runner=ParallelRunner", "--params", CSV, env={"KEDRO_MP_CONTEXT": context}
    )
    assert run.returncode == 0, run.output
    ((metrics,), (expected,)) = project.metrics(), trained[0].metrics()
    for model in ("random_forest", "xgboost"):
        for key in ("cv_scores", "test_accuracy"):
            assert metrics["models"][model][key] == expected["models"][model][key]


class TestPredict:
    def test_predicting_the_held_out_rows_gives_the_held_out_predictions(self, trained):
        project, _, lines = trained
        held_out = _latest(project, "data/07_model_output/test_predictions.csv")
        rows = [lines[0]] + [lines[row + 1] for row in held_out["row"]]  # 1 header line
        new = _write(project, "held_out.csv", rows)
        best = project.metrics()[-1]["ranking"][0]["model"]
        for model, params in ((best, ""), ("xgboost", ",model=xgboost")):
            run = project.kedro(
                "run", "--pipelines=predict", "--params", f"predict_csv={new}{params}"
            )
            assert run.returncode == 0, run.output
            predicted = _latest(project, PREDICTIONS)
            assert predicted["prediction"].tolist() == held_out[model].tolist()
            assert re.search(rf"with .* \({model}\) of the training run \S+$", run.output, re.M)
        assert predicted.columns.tolist()[-4:] == [
            "prediction",
            "probability_Adelie",
            "probability_Chinstrap",
            "probability_Gentoo",
        ]
        assert "Ignored the columns the model does not read: Unnamed: 0, species, year" in (
            run.output
        )
        assert "ParallelRunner" not in run.output  # no worker pool, no training
        assert len(project.metrics()) == 1

    def test_a_semicolon_export_with_decimal_commas_predicts_the_same(self, trained):
        project, _, lines = trained
        comma = _write(project, "comma.csv", lines[:21])
        semicolon = pd.read_csv(project.root / comma).to_csv(sep=";", decimal=",", index=False)
        (project.root / "semicolon.csv").write_text(semicolon)
        predictions = []
        for new in (comma, "semicolon.csv"):
            run = project.kedro("run", "--pipelines=predict", "--params", f"predict_csv={new}")
            assert run.returncode == 0, run.output
            predictions.append(_latest(project, PREDICTIONS)["prediction"].tolist())
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
    def test_bad_new_rows_get_one_error_line_and_nothing_is_written(self, trained, lines, message):
        project, _, table = trained
        before = project.versions(PREDICTIONS)
        new = _write(project, "bad.csv", lines(table))
        run = project.kedro("run", "--pipelines=predict", "--params", f"predict_csv={new}")
        assert run.returncode == 1, run.output
        assert f"Error: {project.root / new}" in run.output and message in run.output
        assert "Traceback" not in run.output
        assert project.versions(PREDICTIONS) == before

    def test_a_missing_file_is_named(self, trained):
        project, _, _ = trained
        run = project.kedro("run", "--pipelines=predict", "--params", "predict_csv=nowhere.csv")
        assert run.returncode == 1
        assert f"Error: {project.root / 'nowhere.csv'} does not exist: point predict_csv" in (
            run.output
        )


def test_predicting_before_any_training_run_says_to_train_first(project):
    _write(project, "new.csv", ["a,b", "1,2"])
    run = project.kedro("run", "--pipelines=predict", "--params", "predict_csv=new.csv")
    assert run.returncode == 1
    assert "Error: No training run yet: " in run.output
    assert "Traceback" not in run.output
    assert project.versions(PREDICTIONS) == []
