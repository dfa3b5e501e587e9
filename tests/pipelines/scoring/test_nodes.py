import logging

import pandas as pd
import pytest

from parallel_trees.pipelines.scoring.nodes import collect_predictions, summarize_models


def _metrics(name, mean, std, test):
    return {
        "display_name": name,
        "cv_scores": [],
        "cv_mean": mean,
        "cv_std": std,
        "test_accuracy": test,
    }


@pytest.fixture
def summary_inputs():
    return {
        "y_train": pd.Series([0, 1] * 60),
        "y_test": pd.Series([0, 1] * 15),
        "dataset": "iris",
        "synthetic": {"n_samples": 10},
        "random_state": 21,
        "cv_folds": 5,
        "cv_shuffle": True,
        "test_size": 0.2,
        "random_forest": _metrics("Random Forest", 0.96, 0.0249, 0.9),
        "xgboost": _metrics("XGBoost", 0.9667, 0.0211, None),
    }


def test_summary_holds_run_settings_and_every_model(summary_inputs):
    summary = summarize_models(**summary_inputs)
    assert summary["run"] == {
        "dataset": "iris",
        "synthetic": None,  # its size only matters when it is the dataset
        "rows": 150,
        "train_rows": 120,
        "test_rows": 30,
        "random_state": 21,
        "cv_folds": 5,
        "cv_shuffle": True,
        "test_size": 0.2,
    }
    assert list(summary["models"]) == ["random_forest", "xgboost"]
    assert summary["models"]["xgboost"] == summary_inputs["xgboost"]


def test_synthetic_size_is_recorded_when_synthetic_data_is_used(summary_inputs):
    summary = summarize_models(**{**summary_inputs, "dataset": "synthetic"})
    assert summary["run"]["synthetic"] == {"n_samples": 10}


def test_logs_a_table_and_the_tutorial_lines_without_percent(summary_inputs, caplog):
    with caplog.at_level(logging.INFO, logger="parallel_trees"):
        summarize_models(**summary_inputs)
    lines = caplog.text.splitlines()
    assert any(
        line.startswith("Random Forest  0.960 ± 0.025") and line.endswith("0.900") for line in lines
    )
    assert any(
        line.startswith("XGBoost        0.967 ± 0.021") and line.endswith("n/a") for line in lines
    )
    assert "Random Forest Model Accuracy: 0.96 ± 0.025" in caplog.messages
    assert "XGBoost Model Accuracy: 0.967 ± 0.021" in caplog.messages
    assert "%" not in caplog.text


class TestCollectPredictions:
    def test_one_row_per_held_out_row_with_every_model(self):
        y_test = pd.Series(["a", "b", "a"], index=[7, 2, 9])
        table = collect_predictions(
            y_test,
            random_forest=pd.Series(["a", "a", "a"], index=[7, 2, 9]),
            xgboost=pd.Series(["b", "b", "a"], index=[7, 2, 9]),
        )
        assert table.index.name == "row"
        assert table.index.tolist() == [7, 2, 9]
        assert table.columns.tolist() == ["target", "random_forest", "xgboost"]
        assert table["xgboost"].tolist() == ["b", "b", "a"]

    def test_nothing_held_out_gives_an_empty_table_with_the_columns(self):
        empty = pd.Series([], dtype=int)
        table = collect_predictions(empty, random_forest=empty, xgboost=empty)
        assert table.empty
        assert table.columns.tolist() == ["target", "random_forest", "xgboost"]
