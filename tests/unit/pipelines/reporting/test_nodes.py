import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from parallel_trees.pipelines.reporting import nodes
from parallel_trees.pipelines.reporting.nodes import (
    concurrent_seconds,
    format_report,
    report_results,
    subplots,
)
from tests.helpers.tables import IRIS_YARDSTICK


def _validated(plot):
    """A chart node, its figure dict built into a ``go.Figure``: plotly checks every
    property, so a misspelt or misplaced one fails the test that draws it."""
    return lambda *args, **kwargs: go.Figure(plot(*args, **kwargs))


plot_confusion_matrices = _validated(nodes.plot_confusion_matrices)
plot_feature_importance = _validated(nodes.plot_feature_importance)
plot_hyperparameter_search = _validated(nodes.plot_hyperparameter_search)
plot_model_comparison = _validated(nodes.plot_model_comparison)
plot_run_timeline = _validated(nodes.plot_run_timeline)

VERDICT = "Random Forest vs XGBoost: +0.100 CV accuracy, ...: no significant difference"
ACCURACY = IRIS_YARDSTICK
PANEL = {
    "accuracy": 0.95,
    "balanced_accuracy": 0.94,
    "roc_auc": 0.99,
    "log_loss": 0.12,
    "f1": 0.93,
    "precision": 0.95,
    "recall": 0.94,
    "cohen_kappa": 0.9,
    "matthews_corrcoef": 0.91,
}
PER_CLASS = [
    {"class": "setosa", "precision": 1.0, "recall": 1.0, "support": 10},
    {"class": "versicolor", "precision": 0.9, "recall": 0.8, "support": 10},
    {"class": "virginica", "precision": 0.85, "recall": 0.95, "support": 10},
]


def _scores(name, folds, test, baseline=False):
    return {
        "display_name": name,
        "baseline": baseline,
        "cv_scores": folds,
        "cv_mean": sum(folds) / len(folds),
        "cv_std": 0.05,
        "test_score": test,
        "cv_panel": PANEL,
        "test_panel": PANEL | {"accuracy": test},
        "per_class": PER_CLASS,
    }


def _training(name, *spans):
    """A training record whose ``timing`` has a span per ``(node, pid, start, end, cpu)``."""
    return {
        "display_name": name,
        "hyperparameters": {"n_estimators": 10},  # not drawn
        "timing": [
            {"node": node, "pid": pid, "started_at": start, "finished_at": end, "cpu_seconds": cpu}
            for node, pid, start, end, cpu in spans
        ],
    }


@pytest.fixture
def scores():
    return {
        "random_forest": _scores("Random Forest", [0.9, 1.0], 0.95),
        "xgboost": _scores("XGBoost", [0.8, 0.9], 0.85),
        "baseline": _scores("Baseline", [0.3, 0.4], 0.33, baseline=True),
    }


@pytest.fixture
def trainings():
    return {
        "random_forest": _training(
            "Random Forest",
            ("cross_validate_1_of_5", 11, 100.0, 101.0, 1.0),
            ("fit_model", 12, 100.0, 102.0, 2.0),
        ),
        "xgboost": _training(
            "XGBoost",
            ("cross_validate_1_of_5", 11, 101.0, 103.0, 1.5),
            ("fit_model", 12, 102.0, 102.5, 0.5),
        ),
    }


@pytest.fixture
def comparison():
    held_out = {"verdict": "held out: +0.100 accuracy; ...: no significant difference"}
    record = {"models": ["random_forest", "xgboost"], "against": "best", "cv": {"verdict": VERDICT}}
    base = {
        "models": ["xgboost", "baseline"],
        "against": "baseline",
        "cv": {"verdict": "XGBoost vs the baseline: ..."},
        "held_out": None,
    }
    return {
        "significance_level": 0.05,
        "best": "random_forest",
        "comparisons": [{**record, "held_out": held_out}, base],
    }


def _entry(rank, model, name, mean, standing, tied=False, **more):
    return {
        "rank": rank,
        "tied": tied,
        "model": model,
        "display_name": name,
        "baseline": model == "baseline",
        "cv_mean": mean,
        "versus_best": standing,
        "p_adjusted_vs_best": None,
        "beats_baseline": None if model == "baseline" else True,
    } | more


@pytest.fixture
def metrics(scores, trainings, comparison):
    return {
        "run": {
            "dataset": "iris",
            "cv_folds": 2,
            "cv_repeats": 1,
            "train_rows": 120,
            "test_rows": 30,
            "yardstick": ACCURACY,
        },
        "models": {m: {**trainings[m], **scores[m]} for m in trainings},
        "baseline": scores["baseline"],
        "comparison": comparison,
        "ranking": [
            _entry(1, "random_forest", "Random Forest", 0.95, "best"),
            _entry(2, "xgboost", "XGBoost", 0.85, "worse", p_adjusted_vs_best=0.004321),
            _entry(3, "baseline", "Baseline", 0.35, "baseline"),
        ],
        "best": "random_forest",
    }


class TestReport:
    def test_scores_panel_verdicts_the_chosen_model_by_class_and_the_ranking(self, metrics):
        assert format_report(metrics).splitlines() == [
            "Accuracy on iris (2-fold CV on 120 training rows; 30 held-out rows; higher is "
            "better):",
            "model          CV accuracy (mean ± std over folds)  held out",
            "Random Forest  0.950 ± 0.050                        0.950",
            "XGBoost        0.850 ± 0.050                        0.850",
            "Baseline       0.350 ± 0.050                        0.330",
            "Random Forest Model Accuracy: 0.95 ± 0.05",
            "XGBoost Model Accuracy: 0.85 ± 0.05",
            "Every metric, held out (on the folds too: metrics.json); f1 is the mean over the 3 "
            "classes:",
            "model          accuracy  bal_acc  roc_auc  log_loss  f1     kappa  mcc",
            "Random Forest  0.950     0.940    0.990    0.120     0.930  0.900  0.910",
            "XGBoost        0.850     0.940    0.990    0.120     0.930  0.900  0.910",
            "Baseline       0.330     0.940    0.990    0.120     0.930  0.900  0.910",
            VERDICT,
            "  held out: +0.100 accuracy; ...: no significant difference",
            "XGBoost vs the baseline: ...",
            "Chosen: Random Forest, the best by CV accuracy (predict uses it); its held-out "
            "accuracy, 0.950 on 30 rows, estimates how it does on new rows.",
            "Random Forest, held out, by class (recall: the share of its rows found):",
            "  class       precision  recall  rows",
            "  setosa      1.000      1.000   10",
            "  versicolor  0.900      0.800   10",
            "  virginica   0.850      0.950   10",
            "Ranking by CV accuracy (higher is better; Holm-adjusted p, significance level 0.05):",
            "1. Random Forest  0.950  best",
            "2. XGBoost        0.850  significantly worse than the best (p = 0.0043)",
            "3. Baseline       0.350  the baseline: always 'setosa'",
        ]

    def test_nothing_held_out_no_panel_no_held_out_verdict_no_classes(self, metrics):
        metrics["run"]["test_rows"] = 0
        for model in [*metrics["models"].values(), metrics["baseline"]]:
            model["test_score"], model["test_panel"], model["per_class"] = None, {}, []
        metrics["comparison"]["comparisons"][0]["held_out"] = None
        lines = format_report(metrics).splitlines()
        assert lines[2] == "Random Forest  0.950 ± 0.050                        n/a"
        assert not any(line.startswith(("  held out", "Every metric", "  class")) for line in lines)
        assert "Chosen: Random Forest, the best by CV accuracy (predict uses it)." in lines

    def test_a_users_table_is_named_by_its_file_and_repeats_are_said(self, metrics):
        source = {"entry": "raw_data", "path": "data/01_raw/penguins.csv"}
        metrics["run"] |= {"dataset": "raw_data", "data_source": source}
        metrics["run"]["cv_repeats"] = 10
        assert format_report(metrics).startswith(
            "Accuracy on penguins.csv (2-fold CV repeated 10 times on 120 training rows"
        )

    def test_a_loss_says_lower_is_better_and_the_tutorial_line_names_it(self, metrics):
        metrics["run"]["yardstick"] = ACCURACY | {"metric": "log_loss", "chosen": True}
        lines = format_report(metrics).splitlines()
        assert lines[0].endswith("30 held-out rows; lower is better):")
        assert lines[0].startswith("Log loss on iris")
        assert "Random Forest Model Log loss: 0.95 ± 0.05" in lines
        assert lines[-4].startswith("Ranking by CV log loss (lower is better;")

    @pytest.mark.parametrize(
        ("share", "chosen", "said"), [(0.72, False, True), (0.72, True, False), (0.5, False, False)]
    )
    def test_a_majority_of_60_percent_or_more_under_accuracy_not_chosen_is_pointed_out(
        self, metrics, share, chosen, said
    ):
        metrics["baseline"]["cv_mean"] = share
        metrics["run"]["yardstick"] = ACCURACY | {"chosen": chosen}
        line = (
            f"Always guessing 'setosa' scores {share:.2f} accuracy on its own: accuracy can rank "
            "models that learned nothing. Judge them on every class with --params "
            "metric=balanced_accuracy (or metric=roc_auc)."
        )
        assert (line in format_report(metrics).splitlines()) is said

    def test_when_no_model_beats_the_baseline_the_report_says_so(self, metrics):
        for entry in metrics["ranking"][:2]:
            entry["beats_baseline"] = False
        lines = format_report(metrics).splitlines()
        assert "No model is significantly better than always guessing 'setosa'." in lines
        assert lines[-2].endswith("(p = 0.0043); no better than the baseline")

    def test_a_two_class_table_names_its_positive_class(self, metrics):
        metrics["run"]["yardstick"] = ACCURACY | {"classes": 2, "positive_class": "malignant"}
        assert (
            "Every metric, held out (on the folds too: metrics.json); f1 is of the positive "
            "class 'malignant' (positive_class):"
        ) in format_report(metrics).splitlines()

    def test_tied_models_share_a_rank_and_the_chosen_one_says_why(self, metrics):
        metrics["ranking"][0] |= {"tied": True}
        metrics["ranking"][1] |= {"rank": 1, "tied": True, "versus_best": "not significantly worse"}
        lines = format_report(metrics).splitlines()
        assert lines[-3] == "1= Random Forest  0.950  best (tied: the first in the registry)"
        assert lines[-2].startswith("1= XGBoost        0.850  not significantly worse than")
        assert any(
            line.startswith("Chosen: Random Forest, the best by CV accuracy, the first in the "
                            "registry of the models tied at the top")
            for line in lines
        )  # fmt: skip

    def test_many_classes_show_the_five_worst_recalls(self, metrics):
        metrics["models"]["random_forest"]["per_class"] = [
            {"class": f"c{i}", "precision": 0.5, "recall": i / 10, "support": 3}
            for i in range(8, 0, -1)
        ]
        lines = format_report(metrics).splitlines()
        start = lines.index("  class  precision  recall  rows")
        assert [line.split()[0] for line in lines[start + 1 : start + 6]] == [
            "c1", "c2", "c3", "c4", "c5"
        ]  # fmt: skip
        assert lines[start + 6] == "  (the 5 worst recalls; 3 more classes in metrics.json)"

    def test_report_results_prints_the_report_and_returns_it(self, metrics, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        report = report_results(metrics)
        assert report == format_report(metrics)
        assert caplog.messages == [report.rstrip("\n")]


class TestModelComparison:
    def test_cv_mean_with_std_error_bars_beside_held_out_and_the_baseline_across(
        self, scores, comparison
    ):
        figure = plot_model_comparison(scores, comparison, ACCURACY)
        cv, folds, test, baseline = figure.data
        assert (cv.type, folds.type, test.type) == ("bar", "scatter", "bar")
        assert list(cv.x) == list(test.x) == ["Random Forest", "XGBoost"]
        assert list(cv.y) == pytest.approx([0.95, 0.85])
        assert list(cv.error_y.array) == [0.05, 0.05]
        assert list(test.y) == [0.95, 0.85]
        assert cv.offsetgroup == folds.offsetgroup != test.offsetgroup
        assert baseline.mode == "lines" and baseline.line.dash == "dash"
        assert list(baseline.y) == pytest.approx([0.35, 0.35])
        assert baseline.name == "baseline (always 'setosa'), CV"
        assert figure.layout.barmode == "group"
        assert figure.layout.yaxis.title.text == "accuracy"
        assert list(figure.layout.yaxis.range) == [0.0, 1.05]

    def test_every_fold_is_a_point_on_its_models_bar(self, scores, comparison):
        folds = plot_model_comparison(scores, comparison, ACCURACY).data[1]
        assert folds.mode == "markers"
        assert list(zip(folds.x, folds.y, strict=True)) == [
            ("Random Forest", 0.9),
            ("Random Forest", 1.0),
            ("XGBoost", 0.8),
            ("XGBoost", 0.9),
        ]

    def test_each_verdict_is_written_under_the_title(self, scores, comparison):
        title = plot_model_comparison(scores, comparison, ACCURACY).layout.title.text
        assert title.startswith("Accuracy per model (higher is better)")
        assert f"held-out rows<br><sup>{VERDICT}</sup>" in title
        one_model = plot_model_comparison(
            {"xgboost": scores["xgboost"]}, {"comparisons": []}, ACCURACY
        )
        assert "<br>" not in one_model.layout.title.text  # no comparison, no verdict

    def test_a_loss_is_drawn_on_its_own_scale(self, scores, comparison):
        loss = ACCURACY | {"metric": "log_loss"}
        figure = plot_model_comparison(scores, comparison, loss)
        assert figure.layout.yaxis.title.text == "log loss"
        assert figure.layout.yaxis.range is None  # unbounded: plotly's own range
        assert figure.layout.title.text.startswith("Log loss per model (lower is better)")

    def test_no_test_bar_when_nothing_was_held_out(self, scores, comparison):
        for model in scores.values():
            model["test_score"] = None
        test = plot_model_comparison(scores, comparison, ACCURACY).data[2]
        assert list(test.y) == [None, None]


@pytest.mark.parametrize(
    ("rows", "cols", "widths", "spacing"),
    [(1, 1, None, 0.12), (1, 2, None, 0.12), (1, 3, None, 0.12), (3, 2, [0.65, 0.35], 0.15)],
)
def test_subplots_are_laid_out_as_make_subplots_lays_them_out(rows, cols, widths, spacing):
    titles = [f"plot {k}" for k in range(rows * cols)]
    made = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        column_widths=widths,
        horizontal_spacing=spacing,
    ).to_plotly_json()["layout"]
    made.pop("template")
    assert subplots(rows, cols, titles, spacing, widths) == made


PARALLEL = {"runner": "ParallelRunner", "cores": 2}


class TestRunTimeline:
    def test_one_trace_per_model_one_bar_per_node_on_its_process_row(self, trainings):
        figure = plot_run_timeline(PARALLEL, **trainings)
        forest, booster = figure.data
        assert [forest.name, booster.name] == ["Random Forest", "XGBoost"]
        assert forest.orientation == booster.orientation == "h"
        assert list(forest.y) == list(booster.y) == ["pid 11", "pid 12"]  # a row per process
        assert list(forest.text) == list(booster.text) == ["cross_validate_1_of_5", "fit_model"]
        assert list(forest.base) == [0.0, 0.0]  # seconds since the first start
        assert list(booster.base) == [1.0, 2.0]
        assert list(forest.x) == [1.0, 2.0]  # durations
        assert list(booster.x) == [2.0, 0.5]
        assert figure.layout.xaxis.title.text == "seconds since the first training node started"
        assert figure.layout.yaxis.title.text == "process"

    def test_title_names_the_runner_the_overlap_and_the_busy_share(self, trainings):
        title = plot_run_timeline(PARALLEL, **trainings).layout.title.text
        # Two or more nodes at once from 100 to 102.5; 5 s of CPU over 2 cores x 3 s.
        assert title == (
            "Training nodes under ParallelRunner: two or more at once for 2.50 s;<br>"
            "83% of 2 core(s) busy training, over 3.0 s"
        )

    def test_title_says_when_they_ran_one_after_the_other(self):
        trainings = {
            "random_forest": _training(
                "Random Forest",
                ("cross_validate_1_of_5", 10, 100.0, 101.0, 1.0),
                ("fit_model", 10, 101.0, 102.0, 1.0),
            ),
            "xgboost": _training(
                "XGBoost",
                ("cross_validate_1_of_5", 10, 102.0, 103.0, 1.0),
                ("fit_model", 10, 103.0, 104.0, 1.0),
            ),
        }
        figure = plot_run_timeline({"runner": "SequentialRunner", "cores": 1}, **trainings)
        assert {y for bars in figure.data for y in bars.y} == {"pid 10"}
        assert figure.layout.title.text == (
            "Training nodes under SequentialRunner: one after the other;<br>"
            "100% of 1 core(s) busy training, over 4.0 s"
        )


@pytest.mark.parametrize(
    ("intervals", "seconds"),
    [
        ([(0, 3), (1, 2.5)], 1.5),  # one inside the other
        ([(0, 2), (1, 3)], 1.0),  # staggered
        ([(0, 1), (1, 2)], 0.0),  # one starts as the other ends
        ([(0, 1), (2, 3)], 0.0),
        ([(0, 4), (1, 2), (3, 5)], 2.0),  # three nodes: any two at once counts
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

    def test_one_heatmap_of_counts_per_model_none_of_the_baseline(self, predictions, scores):
        figure = plot_confusion_matrices(predictions, [0, 1, 2], scores)
        forest, booster = figure.data  # not the baseline: it always guesses one class
        assert forest.type == booster.type == "heatmap"
        assert list(forest.x) == list(forest.y) == ["0", "1", "2"]
        # rows: true class; columns: predicted class
        assert [list(r) for r in forest.z] == [[2, 0, 0], [0, 1, 1], [0, 0, 1]]
        assert [list(r) for r in booster.z] == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
        titles = [a.text for a in figure.layout.annotations]
        assert titles == ["Random Forest", "XGBoost"]
        assert figure.layout.xaxis.title.text == "predicted class"
        assert figure.layout.yaxis.title.text == "true class"

    def test_a_class_no_model_predicted_still_has_its_column(self, predictions, scores):
        predictions["target"] = [0, 0, 1, 1, 3]
        forest = plot_confusion_matrices(predictions, [0, 1, 2, 3], scores).data[0]
        assert list(forest.x) == ["0", "1", "2", "3"]
        assert [list(r) for r in forest.z][3] == [0, 0, 1, 0]

    def test_every_class_of_the_dataset_is_a_row_and_a_column(self, predictions, scores):
        forest = plot_confusion_matrices(predictions, [0, 1, 2, 5], scores).data[0]
        assert list(forest.x) == ["0", "1", "2", "5"]  # 5: in no held-out row
        assert [list(r) for r in forest.z][3] == [0, 0, 0, 0]

    def test_no_held_out_rows_gives_an_empty_chart_that_says_why(self, predictions, scores):
        figure = plot_confusion_matrices(predictions.iloc[:0], [0, 1, 2], scores)
        assert figure.data == ()
        assert "no held-out rows (test_size is 0)" in figure.layout.title.text


class TestPredictionErrors:
    """A regression's chart in place of the confusion matrices (no classes)."""

    @pytest.fixture
    def predictions(self):
        return pd.DataFrame(
            {
                "target": [10.0, 20.0, 30.0],
                "random_forest": [12.0, 18.0, 30.0],
                "xgboost": [10.0, 25.0, 28.0],
            },
            index=pd.Index([7, 3, 9], name="row"),
        )

    def test_predicted_against_true_then_residuals_per_model(self, predictions, scores):
        figure = plot_confusion_matrices(predictions, [], scores)
        titles = [a.text for a in figure.layout.annotations]
        assert titles == [
            "Random Forest: predicted against true",
            "XGBoost: predicted against true",
            "Random Forest: residuals",
            "XGBoost: residuals",
        ]
        points = [t for t in figure.data if t.mode == "markers"]
        forest = next(t for t in points if t.xaxis == "x")
        assert list(forest.x) == [10.0, 20.0, 30.0] and list(forest.y) == [12.0, 18.0, 30.0]
        residuals = next(t for t in points if t.yaxis == "y4")  # XGBoost's, below it
        assert list(residuals.x) == [10.0, 25.0, 28.0]
        assert list(residuals.y) == [0.0, 5.0, -2.0]
        diagonal = next(t for t in figure.data if t.mode == "lines")
        assert list(diagonal.x) == list(diagonal.y) == [10.0, 30.0]

    def test_no_held_out_rows_says_why(self, predictions, scores):
        figure = plot_confusion_matrices(predictions.iloc[:0], [], scores)
        assert figure.layout.title.text == (
            "Predicted against true: no held-out rows (test_size is 0)"
        )


def _importance(measured_on=4_000, out_of=4_000, sample="all", std=0.01, **means):
    """An ``explain_model`` record of a held-out part of ``out_of`` rows."""
    columns = {c: {"mean": m, "std": std} for c, m in means.items()}
    return {
        "rows": "held-out",
        "out_of": out_of,
        "measured_on": measured_on,
        "sample": sample,
        "repeats": 5,
        "metric": "roc_auc",
        "columns": columns,
    }


class TestFeatureImportance:
    def test_one_bar_per_model_and_column_the_most_important_on_top(self, scores):
        figure = plot_feature_importance(
            scores,
            random_forest=_importance(island=0.2, bill=0.3, id_like=0.0),
            xgboost=_importance(island=0.1, bill=0.35, id_like=0.01),
        )
        forest, booster = figure.data
        assert (forest.name, booster.name) == ("Random Forest", "XGBoost")
        # Plotly draws the first category at the bottom: the largest total comes last.
        assert list(forest.y) == ["id_like", "island", "bill"]
        assert list(booster.x) == [0.01, 0.1, 0.35]
        assert figure.layout.title.text.startswith(
            "What each model learned: how much worse its ROC AUC gets when a column is shuffled<br>"
        )
        assert figure.layout.xaxis.title.text == "ROC AUC, worse by (permutation importance)"

    def test_each_bar_has_the_std_over_shuffles_as_its_error_bar(self, scores):
        figure = plot_feature_importance(
            scores,
            random_forest=_importance(std=0.02, island=0.2, bill=0.3),
            xgboost=_importance(std=0.005, island=0.1, bill=0.35),
        )
        forest, booster = figure.data
        assert forest.error_x.type == "data" and forest.error_x.visible is not False
        assert list(forest.error_x.array) == [0.02, 0.02]
        assert list(booster.error_x.array) == [0.005, 0.005]

    def test_the_subtitle_says_all_rows_were_measured_and_how_precise(self, scores):
        figure = plot_feature_importance(
            scores,
            random_forest=_importance(30, 30, std=0.02, island=0.2, bill=0.3),
            xgboost=_importance(30, 30, std=0.004, island=0.1, bill=0.35),
        )
        assert figure.layout.title.text.endswith(
            "<br><sup>on all 30 held-out rows; error bars: ± 1 std over 5 shuffles, "
            "median 0.012</sup>"
        )

    def test_the_subtitle_says_how_many_rows_of_how_many_a_capped_sample_measured(self, scores):
        capped = {"measured_on": 2_000, "out_of": 200_000, "sample": "stratified"}
        figure = plot_feature_importance(
            scores,
            random_forest=_importance(**capped, std=0.0031, island=0.2),
            xgboost=_importance(**capped, std=0.0031, island=0.1),
        )
        assert figure.layout.title.text.endswith(
            "<br><sup>on 2,000 of 200,000 held-out rows, a sample stratified by class; "
            "error bars: ± 1 std over 5 shuffles, median 0.0031</sup>"
        )


def _trial(score, state="complete", **params):
    return {"params": params, "score": score, "state": state}


def _search(best_params, best_score, trials, importance):
    return {
        "best_params": best_params,
        "best_score": best_score,
        "trials": trials,
        "importance": importance,
    }


def _fold(fold, score, untuned, best_inner, best_params, trials=(), importance=None):
    return {
        "fold": fold,
        "score": score,
        "untuned_score": untuned,
        "best_params": best_params,
        "best_inner_score": best_inner,
        "trials": list(trials),
        "importance": importance or {},
    }


@pytest.fixture
def tuned_forest():
    """A forest's training record, tuned on two outer folds and on all rows."""
    return {
        "display_name": "Random Forest",
        "folds": [
            _fold(
                0,
                0.95,
                0.9,
                0.97,
                {"max_depth": 3, "max_features": 0.72193},
                [
                    _trial(0.9, max_depth=12, max_features=0.5),
                    _trial(0.5, "pruned", max_depth=2, max_features=0.1),
                    _trial(0.97, max_depth=3, max_features=0.72193),
                ],
                {"max_depth": 0.8, "max_features": 0.2},
            ),
            _fold(
                1,
                0.85,
                0.9,
                0.93,
                {"max_depth": 30, "max_features": 0.25},
                [
                    _trial(0.93, max_depth=30, max_features=0.25),
                    _trial(0.91, max_depth=4, max_features=0.9),
                ],
                {"max_depth": 0.4, "max_features": 0.6},
            ),
        ],
        "search": _search(
            {"max_depth": 5, "max_features": 0.5},
            0.96,
            [
                _trial(0.96, max_depth=5, max_features=0.5),
                _trial(0.8, max_depth=2, max_features=1.0),
            ],
            {},  # fANOVA could not tell
        ),
    }


class TestTunedReport:
    @pytest.fixture
    def tuned(self, metrics, tuned_forest):
        metrics["run"]["tuning"] = {"trials": 3, "inner_folds": 3}
        metrics["models"]["random_forest"] |= tuned_forest
        metrics["models"]["xgboost"]["search"] = None  # no search space: not tuned
        metrics["comparison"]["untuned"] = {"verdict": "Tuning did not change the verdict."}
        return metrics

    def test_an_untuned_run_prints_no_tuning_lines(self, metrics):
        metrics["run"]["tuning"] = {"trials": 0, "inner_folds": 3}
        metrics["comparison"]["untuned"] = None
        lines = format_report(metrics).splitlines()
        assert lines[-1] == "3. Baseline       0.350  the baseline: always 'setosa'"

    def test_each_outer_folds_best_setting_then_whether_the_verdict_changed(self, tuned):
        report = format_report(tuned)
        assert report.split("always 'setosa'\n")[1].splitlines() == [
            "Tuning by nested CV (3 trials per search, 3-fold inner CV), each outer fold's best "
            "setting:",
            "(best inner: the search's own score, optimistic; saved: a last search on all rows)",
            "Random Forest:",
            "  fold   accuracy  untuned  best inner  max_depth  max_features",
            "  1      0.950     0.900    0.970       3          0.722",
            "  2      0.850     0.900    0.930       30         0.25",
            "  mean   0.900     0.900    0.950",
            "  saved  -         -        0.960       5          0.5",
            "Tuning did not change the verdict.",
        ]


class TestHyperparameterSearch:
    def test_says_why_it_is_empty_when_nothing_was_tuned(self, trainings):
        for training in trainings.values():
            training["search"] = None
        off = plot_hyperparameter_search({"trials": 0, "inner_folds": 3}, ACCURACY, **trainings)
        assert off.data == ()
        assert off.layout.title.text == "Hyperparameter search: none (tuning.trials is 0)"
        spaceless = plot_hyperparameter_search(
            {"trials": 5, "inner_folds": 3}, ACCURACY, **trainings
        )
        assert spaceless.layout.title.text.endswith("(no model has a search space)")

    def test_every_search_draws_its_trials_and_its_best_so_far(self, tuned_forest):
        figure = plot_hyperparameter_search(
            {"trials": 3, "inner_folds": 3},
            ACCURACY,
            random_forest=tuned_forest,
            xgboost={"display_name": "XGBoost", "search": None},  # not tuned: no row
        )
        *searches, importance = figure.data
        assert len(searches) == 2 * 3  # points and a line for each of three searches
        points, best = searches[0], searches[1]
        assert list(points.x) == list(best.x) == [1, 2, 3]
        assert list(points.y) == [0.9, 0.5, 0.97]
        assert list(points.marker.symbol) == ["circle", "x", "circle"]  # pruned: partial score
        assert list(best.y) == [0.9, 0.9, 0.97]  # a pruned trial is never the best
        assert "outer fold 1, pruned: max_depth=2, max_features=0.1" in points.text
        assert list(searches[4].y) == [0.96, 0.8]  # the last search, on all training rows
        assert {t.legendgroup for t in figure.data} == {"random_forest"}
        assert [t.showlegend for t in searches] == [True, True, False, False, False, False]

    def test_what_mattered_is_each_parameters_mean_share_over_the_searches(self, tuned_forest):
        figure = plot_hyperparameter_search(
            {"trials": 3, "inner_folds": 3}, ACCURACY, random_forest=tuned_forest
        )
        importance = figure.data[-1]
        assert importance.type == "bar" and importance.orientation == "h"
        # Over the two searches that could tell (the last one could not): the largest on top.
        assert list(importance.y) == ["max_features", "max_depth"]
        assert list(importance.x) == pytest.approx([0.4, 0.6])
        assert list(importance.error_x.array) == pytest.approx([0.2, 0.2])
        assert "3 trials per search, 3-fold inner CV" in figure.layout.title.text


def test_the_best_so_far_of_a_loss_is_its_lowest(tuned_forest):
    loss = ACCURACY | {"metric": "log_loss"}
    figure = plot_hyperparameter_search(
        {"trials": 3, "inner_folds": 3}, loss, random_forest=tuned_forest
    )
    best = figure.data[1]
    assert list(best.y) == [0.9, 0.9, 0.9]  # 0.97 is a higher loss: not better
    assert figure.layout.yaxis.title.text == "inner-CV log loss"
