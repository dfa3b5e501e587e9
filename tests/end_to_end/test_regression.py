"""End-to-end: a numeric target is regressed, with the same comparison, baseline, charts,
predictions and tracking as classes; and the task is chosen from the target column."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from tests.helpers.mlflow_store import Store
from tests.helpers.project import ProjectCopy, write_csv

RUNNERS = ["SequentialRunner", "ParallelRunner", "DaskRunner"]
PREDICTIONS = "data/07_model_output/predictions.csv"


@pytest.mark.processes
class TestDiabetes:
    def test_every_runner_gives_identical_scores_and_verdicts(self, diabetes_runs):
        first, *others = (diabetes_runs[runner].metrics for runner in RUNNERS)
        for metrics in others:
            for name, model in first["models"].items():
                again = metrics["models"][name]
                assert again["cv_scores"] == model["cv_scores"]
                assert again["test_panel"] == model["test_panel"]
                assert again["folds"] == model["folds"]
            assert metrics["baseline"]["cv_scores"] == first["baseline"]["cv_scores"]
            p_values = [
                [r["cv"]["p_value"], r["held_out"]["p_value"]]
                for r in first["comparison"]["comparisons"]
            ]
            assert [
                [r["cv"]["p_value"], r["held_out"]["p_value"]]
                for r in metrics["comparison"]["comparisons"]
            ] == p_values
            assert metrics["ranking"] == first["ranking"]

    def test_regressors_judged_by_rmse_against_the_mean(self, diabetes_runs):
        run = diabetes_runs["ParallelRunner"]
        metrics = run.metrics
        assert metrics["run"]["yardstick"]["task"] == "regression"
        assert metrics["run"]["yardstick"]["metric"] == "rmse"
        assert metrics["run"]["classes"] == []
        assert {m["estimator"] for m in metrics["models"].values()} == {
            "RandomForestRegressor",
            "XGBRegressor",
        }
        assert metrics["baseline"]["estimator"] == "DummyRegressor"
        y = load_diabetes().target
        test_rows = metrics["run"]["test_rows"]
        assert 0 < metrics["baseline"]["guess"] < y.max() and test_rows == 89
        for model in metrics["models"].values():
            assert set(model["test_panel"]) == {"rmse", "mae", "r2", "mape"}
            # Forests and boosting learn something of the disease's progression.
            assert model["cv_mean"] < metrics["baseline"]["cv_mean"]
            assert model["per_class"] == []
        comparison = metrics["comparison"]
        assert comparison["held_out_test"] == "paired bootstrap of the held-out rows"
        assert comparison["greater_is_better"] is False

    def test_the_console_says_the_task_then_reports_rmse_lower_is_better(self, diabetes_runs):
        output = diabetes_runs["ParallelRunner"].run.output
        assert (
            "Task: regression (it predicts numbers), since the diabetes dataset's target is a "
            "number; set task=classification to predict classes." in output
        )
        assert (
            "Data: 442 rows, 10 feature columns, a numeric target; 353 to train on, 89 held out"
            in output
        )
        assert (
            "RMSE on diabetes (5-fold CV on 353 training rows; 89 held-out rows; lower is better):"
            in output
        )
        assert "model          rmse    mae     r2      mape" in output
        assert "always guessing the mean (" in output
        assert "by class" not in output
        assert "Traceback" not in output

    def test_the_chart_is_predicted_against_true_and_residuals(self, diabetes_runs):
        run = diabetes_runs["ParallelRunner"]
        chart = json.loads(run.saved("data/08_reporting/confusion_matrix.json").read_text())
        predictions = pd.read_csv(run.saved("data/07_model_output/test_predictions.csv"))
        assert {trace["type"] for trace in chart["data"]} == {"scatter"}
        titles = [note["text"] for note in chart["layout"]["annotations"]]
        assert titles == [
            "Random Forest: predicted against true",
            "XGBoost: predicted against true",
            "Random Forest: residuals",
            "XGBoost: residuals",
        ]
        forest = chart["data"][0]
        assert forest["x"] == pytest.approx(predictions["target"].tolist())
        assert forest["y"] == pytest.approx(predictions["random_forest"].tolist())
        residuals = next(t for t in chart["data"] if t["yaxis"] == "y3")
        expected = predictions["random_forest"] - predictions["target"]
        assert residuals["y"] == pytest.approx(expected.tolist())

    def test_the_logged_regressors_predict_numbers_from_raw_rows(self, diabetes_runs):
        run = diabetes_runs["ParallelRunner"]
        store = Store.of(run.project)
        models = store.models(store.named(run.version).info.run_id)
        rows = load_diabetes(as_frame=True).data.head(3)
        predictions = pd.read_csv(run.saved("data/07_model_output/test_predictions.csv"))
        assert set(models) == {"random_forest", "xgboost"}
        for model in models.values():
            predicted = np.asarray(model.predict(rows))
            assert predicted.dtype.kind == "f" and predicted.shape == (3,)
        assert predictions["random_forest"].dtype.kind == "f"

    def test_predict_writes_a_number_per_row_and_no_probabilities(self, diabetes_runs):
        run = diabetes_runs["ParallelRunner"]
        project = run.project
        held_out = pd.read_csv(run.saved("data/07_model_output/test_predictions.csv"))
        features = load_diabetes(as_frame=True).data.loc[held_out["row"]]
        write_csv(project, "new_patients.csv", features)
        predicted_run = project.in_process(
            "run", "--pipelines=predict", "--params", "predict_csv=new_patients.csv"
        )
        assert predicted_run.returncode == 0, predicted_run.output
        predicted = project.latest_table(PREDICTIONS)
        assert predicted.columns.tolist() == [*features.columns, "prediction"]
        best = project.metrics()[-1]["best"]
        assert predicted["prediction"].tolist() == pytest.approx(held_out[best].tolist())


def _prices(rows: int = 80) -> pd.DataFrame:
    """Cars: a price in dollars and cents, from the engine's size and the make (text)."""
    rng = np.random.default_rng(3)
    engine = rng.uniform(1.0, 4.0, rows).round(1)
    make = rng.choice(["Ford", "Honda", "Audi"], rows)
    premium = np.where(make == "Audi", 9000.0, 0.0)
    price = (8000 * engine + premium + rng.normal(0, 1500, rows)).round(2)
    return pd.DataFrame(
        {"engine": engine, "make": make, "doors": rng.choice([2, 4], rows), "price": price}
    )


def _run(project: ProjectCopy, table: pd.DataFrame, target: str, extra: str = ""):
    write_csv(project, "table.csv", table)
    params = f"dataset=raw_data,csv_path=table.csv,target_column={target}{extra}"
    return project.in_process("run", "--params", params)


class TestTheTargetChoosesTheTask:
    def test_a_price_column_is_regressed(self, project):
        run = _run(project, _prices(), "price")
        assert run.returncode == 0, run.output
        assert "Task: regression (it predicts numbers), since target_column 'price' of " in (
            run.output
        )
        assert "table.csv) holds numbers that are not whole (e.g. 12161.8); set task=" in run.output
        assert re.search(r"always guessing the mean \(2\d{4}\)", run.output)  # 4 digits
        metrics = project.metrics()[-1]
        assert metrics["run"]["yardstick"]["task"] == "regression"
        assert "RMSE on table.csv" in run.output
        # The engine's size drives the price: both models beat always guessing the mean.
        assert all(r["beats_baseline"] for r in metrics["ranking"] if not r["baseline"])

    def test_integer_class_codes_stay_classes(self, project):
        table = _prices().assign(segment=lambda t: 1 + (t["price"] > t["price"].median()))
        run = _run(project, table.drop(columns="price"), "segment")
        assert run.returncode == 0, run.output
        assert (
            "table.csv) holds 2 distinct whole numbers: class codes; set task=regression to "
            "predict numbers." in run.output
        )
        assert project.metrics()[-1]["run"]["classes"] == [1, 2]
        assert "Accuracy on table.csv" in run.output

    def test_classes_can_be_forced_on_a_numeric_column(self, project):
        table = _prices().assign(rating=lambda t: 1.5 + (t["engine"] > 2.5))  # 1.5 or 2.5
        run = _run(project, table.drop(columns="price"), "rating", ",task=classification")
        assert run.returncode == 0, run.output
        assert "Task: classification (it predicts classes), as task=classification sets" in (
            run.output
        )
        assert project.metrics()[-1]["run"]["classes"] == [1.5, 2.5]

    def test_a_synthetic_regression_is_make_regressions_table(self, project):
        run = project.in_process(
            "run", "--params", "dataset=synthetic,task=regression,synthetic.n_samples=200"
        )
        assert run.returncode == 0, run.output
        metrics = project.metrics()[-1]
        assert metrics["run"]["yardstick"]["task"] == "regression"
        assert metrics["run"]["rows"] == 200 and metrics["run"]["classes"] == []
        assert (
            "Task: regression (it predicts numbers), as task=regression sets, for the synthetic "
            "dataset" in run.output
        )
