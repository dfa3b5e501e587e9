import pandas as pd
import pytest

from parallel_trees.hooks import runner_name
from parallel_trees.pipelines.reporting.nodes import (
    concurrent_seconds,
    plot_confusion_matrices,
    plot_model_comparison,
    plot_run_timeline,
)


def _model(name, scores, test, start, end, pid):
    return {
        "display_name": name,
        "cv_scores": scores,
        "cv_mean": sum(scores) / len(scores),
        "cv_std": 0.05,
        "test_accuracy": test,
        "training": {"pid": pid, "started_at": start, "finished_at": end},
        "hyperparameters": {"n_estimators": 10},  # not drawn
    }


@pytest.fixture
def metrics():
    return {
        "run": {"dataset": "iris"},
        "models": {
            "random_forest": _model("Random Forest", [0.9, 1.0], 0.95, 100.0, 103.0, 11),
            "xgboost": _model("XGBoost", [0.8, 0.9], 0.85, 101.0, 102.5, 12),
        },
        # Keys another feature may add: the charts must not care.
        "comparison": {"anything": 1},
        "ranking": ["random_forest", "xgboost"],
    }


class TestModelComparison:
    def test_cv_mean_with_std_error_bars_beside_test_accuracy(self, metrics):
        figure = plot_model_comparison(metrics)
        cv, folds, test = figure.data
        assert (cv.type, folds.type, test.type) == ("bar", "scatter", "bar")
        assert list(cv.x) == list(test.x) == ["Random Forest", "XGBoost"]
        assert list(cv.y) == pytest.approx([0.95, 0.85])
        assert list(cv.error_y.array) == [0.05, 0.05]
        assert list(test.y) == [0.95, 0.85]
        assert cv.offsetgroup == folds.offsetgroup != test.offsetgroup
        assert figure.layout.barmode == "group"
        assert figure.layout.yaxis.title.text == "accuracy"

    def test_every_fold_is_a_point_on_its_models_bar(self, metrics):
        folds = plot_model_comparison(metrics).data[1]
        assert folds.mode == "markers"
        assert list(zip(folds.x, folds.y, strict=True)) == [
            ("Random Forest", 0.9),
            ("Random Forest", 1.0),
            ("XGBoost", 0.8),
            ("XGBoost", 0.9),
        ]

    def test_each_pairs_verdict_is_written_under_the_title(self, metrics):
        verdict = "XGBoost vs Random Forest: +0.007 CV accuracy, ...: no significant difference"
        record = {**metrics, "comparison": {"pairs": [{"cv": {"verdict": verdict}}]}}
        title = plot_model_comparison(record).layout.title.text
        assert title.endswith(f"test rows<br><sup>{verdict}</sup>")
        assert "<br>" not in plot_model_comparison(metrics).layout.title.text  # no tests

    def test_no_test_bar_when_nothing_was_held_out(self, metrics):
        for model in metrics["models"].values():
            model["test_accuracy"] = None
        test = plot_model_comparison(metrics).data[2]
        assert list(test.y) == [None, None]


class TestRunTimeline:
    def test_one_bar_per_model_from_start_to_end(self, metrics):
        figure = plot_run_timeline(metrics, "ParallelRunner")
        (bars,) = figure.data
        assert bars.orientation == "h"
        assert list(bars.y) == ["Random Forest", "XGBoost"]
        assert list(bars.base) == [0.0, 1.0]  # seconds since the first start
        assert list(bars.x) == [3.0, 1.5]  # durations
        assert list(bars.text) == ["pid 11", "pid 12"]
        assert figure.layout.xaxis.title.text == "seconds since the first training node started"

    def test_title_names_the_runner_and_the_overlap(self, metrics):
        title = plot_run_timeline(metrics, "ParallelRunner").layout.title.text
        assert title == "Training nodes under ParallelRunner:<br>ran at the same time for 1.50 s"

    def test_title_says_when_they_ran_one_after_the_other(self, metrics):
        metrics["models"]["xgboost"]["training"].update(started_at=103.0, finished_at=104.0)
        title = plot_run_timeline(metrics, "SequentialRunner").layout.title.text
        assert title == "Training nodes under SequentialRunner:<br>ran one after the other"


@pytest.mark.parametrize(
    ("intervals", "seconds"),
    [
        ([(0, 3), (1, 2.5)], 1.5),  # one inside the other
        ([(0, 2), (1, 3)], 1.0),  # staggered
        ([(0, 1), (1, 2)], 0.0),  # one starts as the other ends
        ([(0, 1), (2, 3)], 0.0),
        ([(0, 4), (1, 2), (3, 5)], 2.0),  # three models: any two at once counts
        ([(0, 1)], 0.0),
    ],
)
def test_concurrent_seconds(intervals, seconds):
    assert concurrent_seconds(intervals) == pytest.approx(seconds)


class TestConfusionMatrices:
    @pytest.fixture
    def predictions(self):
        return pd.DataFrame(
            {
                "target": [0, 0, 1, 1, 2],
                "random_forest": [0, 0, 1, 2, 2],
                "xgboost": [0, 1, 1, 1, 1],
            },
            index=pd.Index([7, 3, 9, 1, 4], name="row"),
        )

    def test_one_heatmap_of_counts_per_model(self, predictions, metrics):
        figure = plot_confusion_matrices(predictions, metrics)
        forest, booster = figure.data
        assert forest.type == booster.type == "heatmap"
        assert list(forest.x) == list(forest.y) == ["0", "1", "2"]
        # rows: true class; columns: predicted class
        assert [list(r) for r in forest.z] == [[2, 0, 0], [0, 1, 1], [0, 0, 1]]
        assert [list(r) for r in booster.z] == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
        titles = [a.text for a in figure.layout.annotations]
        assert titles == ["Random Forest", "XGBoost"]
        assert figure.layout.xaxis.title.text == "predicted class"
        assert figure.layout.yaxis.title.text == "true class"

    def test_a_class_no_model_predicted_still_has_its_column(self, predictions, metrics):
        predictions["target"] = [0, 0, 1, 1, 3]
        forest = plot_confusion_matrices(predictions, metrics).data[0]
        assert list(forest.x) == ["0", "1", "2", "3"]
        assert [list(r) for r in forest.z][3] == [0, 0, 1, 0]

    def test_no_held_out_rows_gives_an_empty_chart_that_says_why(self, predictions, metrics):
        figure = plot_confusion_matrices(predictions.iloc[:0], metrics)
        assert figure.data == ()
        assert "no held-out rows (test_size is 0)" in figure.layout.title.text


@pytest.mark.parametrize(
    ("recorded", "name"),
    [
        ("<kedro.runner.parallel_runner.ParallelRunner object at 0x7f2d>", "ParallelRunner"),
        ("<kedro.runner.thread_runner.ThreadRunner object at 0x7f2d>", "ThreadRunner"),
        ("None", "SequentialRunner"),  # the session's default
        ("SequentialRunner", "SequentialRunner"),
    ],
)
def test_runner_name_from_kedros_run_params(recorded, name):
    assert runner_name(recorded) == name
