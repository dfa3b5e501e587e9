import numpy as np
import pandas as pd
import pytest

from parallel_trees.pipelines.scoring.nodes import (
    build_metrics,
    collect_predictions,
    compare_models,
    compare_untuned,
    score_models,
)
from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact

ROLES = {"numeric": ["width"], "categorical": [], "many_levels": [], "excluded": {}}


def _metrics(name, mean, std, test, cv_scores=()):
    return {
        "display_name": name,
        "cv_scores": list(cv_scores),
        "cv_mean": mean,
        "cv_std": std,
        "test_accuracy": test,
    }


@pytest.fixture
def summary_inputs():
    inputs = {
        "y_train": pd.Series([0, 1] * 60, name="target"),
        "y_test": pd.Series([0, 1] * 15, name="target"),
        "classes": ["setosa", "versicolor"],
        "data_source": {},
        "feature_roles": ROLES,
        "dataset": "iris",
        "synthetic": {"n_samples": 10},
        "random_state": 21,
        "cv_folds": 5,
        "cv_shuffle": True,
        "test_size": 0.2,
        "tuning": {"trials": 0, "inner_folds": 3},
        "untuned_comparison": {},
        "scores": {
            "random_forest": _metrics("Random Forest", 0.96, 0.0249, 0.9, [1.0, 0.9, 0.95]),
            "xgboost": _metrics("XGBoost", 0.9667, 0.0211, None, [0.9, 0.95, 0.95]),
        },
        "random_forest": {"display_name": "Random Forest", "hyperparameters": {"n_jobs": 1}},
        "xgboost": {"display_name": "XGBoost", "hyperparameters": {"n_jobs": 2}},
    }
    inputs["comparison"], inputs["ranking"] = compare_models(
        inputs["scores"], _predictions([]), FOLDS[:3], 0.05
    )
    return inputs


def test_metrics_hold_run_settings_and_every_model(summary_inputs):
    summary = build_metrics(**summary_inputs)
    assert summary["run"] == {
        "dataset": "iris",
        "data_file": None,  # the file read, with dataset: csv
        "synthetic": None,  # its size only matters when it is the dataset
        "rows": 150,
        "train_rows": 120,
        "test_rows": 30,
        "classes": ["setosa", "versicolor"],
        "target_column": "target",
        "feature_roles": ROLES,
        "random_state": 21,
        "cv_folds": 5,
        "cv_shuffle": True,
        "test_size": 0.2,
        "tuning": {"trials": 0, "inner_folds": 3},
    }
    assert list(summary["models"]) == ["random_forest", "xgboost"]
    # Each model: its training record, then its scores.
    assert summary["models"]["xgboost"] == {
        **summary_inputs["xgboost"],
        **summary_inputs["scores"]["xgboost"],
    }


def test_a_csv_file_is_recorded_by_its_path_and_hash_and_its_label_column(summary_inputs):
    source = {"path": "data/01_raw/penguins.csv", "sha256": "ab12"}
    summary = build_metrics(
        **{
            **summary_inputs,
            "dataset": "csv",
            "data_source": source,
            "y_train": summary_inputs["y_train"].rename("species"),
        }
    )
    assert summary["run"]["data_file"] == source
    assert summary["run"]["target_column"] == "species"


def test_synthetic_size_is_recorded_when_synthetic_data_is_used(summary_inputs):
    summary = build_metrics(**{**summary_inputs, "dataset": "synthetic"})
    assert summary["run"]["synthetic"] == {"n_samples": 10}


class TestScoreModels:
    def test_cv_mean_and_population_std_and_held_out_accuracy(self):
        predictions = _predictions([0, 1, 1, 0], forest=[0, 1, 0, 0], boost=[0, 1, 1, 0])
        trainings = {
            "forest": {"display_name": "Forest", "cv_scores": [0.9, 1.0]},
            "boost": {"display_name": "Boost", "cv_scores": [0.8, 0.8]},
        }
        scores = score_models(predictions, **trainings)
        assert scores["forest"] == {
            "display_name": "Forest",
            "cv_scores": [0.9, 1.0],
            "cv_mean": pytest.approx(0.95),
            "cv_std": pytest.approx(0.05),  # population std, as the tutorial
            "test_accuracy": 0.75,
        }
        assert scores["boost"]["test_accuracy"] == 1.0

    def test_no_test_accuracy_when_nothing_was_held_out(self):
        empty = _predictions([], forest=[])
        scores = score_models(empty, forest={"display_name": "Forest", "cv_scores": [1.0]})
        assert scores["forest"]["test_accuracy"] is None


class TestCollectPredictions:
    def test_one_row_per_held_out_row_with_every_model_by_class_name(self):
        y_test = pd.Series([0, 1, 0], index=[7, 2, 9], name="species")
        table = collect_predictions(
            y_test,
            ["a", "b"],
            random_forest=pd.Series([0, 0, 0], index=[7, 2, 9]),
            xgboost=pd.Series([1, 1, 0], index=[7, 2, 9]),
        )
        assert table.index.name == "row"
        assert table.index.tolist() == [7, 2, 9]
        # The labels keep the name of the user's label column.
        assert table.columns.tolist() == ["species", "random_forest", "xgboost"]
        assert table["species"].tolist() == ["a", "b", "a"]
        assert table["xgboost"].tolist() == ["b", "b", "a"]

    def test_nothing_held_out_gives_an_empty_table_with_the_columns(self):
        empty = pd.Series([], dtype=int, name="target")
        table = collect_predictions(empty, ["a", "b"], random_forest=empty, xgboost=empty)
        assert table.empty
        assert table.columns.tolist() == ["target", "random_forest", "xgboost"]


# Five folds of 120 training rows: 96 to train on, 24 to score, as the default run.
FOLDS = [(np.arange(96), np.arange(96, 120))] * 5


def _models(*scores_by_name):
    return {
        name.lower().replace(" ", "_"): _metrics(name, np.mean(s), np.std(s), None, s)
        for name, s in scores_by_name
    }


def _predictions(target, **by_model):
    return pd.DataFrame({"target": target, **by_model})


class TestCompareModels:
    def test_every_pair_of_three_models_best_first(self):
        models = _models(
            ("Forest", [0.9, 0.92, 0.88, 0.9, 0.91]),
            ("Boost", [0.95, 0.96, 0.94, 0.97, 0.95]),
            ("Trees", [0.5, 0.52, 0.48, 0.5, 0.51]),
        )
        comparison, _ = compare_models(models, _predictions([]).iloc[:0], FOLDS, 0.05)
        pairs = comparison["pairs"]
        assert [p["models"] for p in pairs] == [
            ["boost", "forest"],
            ["boost", "trees"],
            ["forest", "trees"],
        ]
        expected = corrected_resampled_ttest(
            models["boost"]["cv_scores"], models["forest"]["cv_scores"], 96, 24
        )
        assert pairs[0]["cv"]["p_value"] == pytest.approx(expected.p_value)
        assert pairs[0]["cv"]["difference"] == pytest.approx(0.052)
        assert all(p["held_out"] is None for p in pairs)  # nothing held out

    def test_verdict_names_the_better_model_when_significant(self):
        models = _models(
            ("Forest", [0.5, 0.52, 0.48, 0.5, 0.51]), ("Boost", [0.95, 0.96, 0.94, 0.97, 0.95])
        )
        (pair,) = compare_models(models, _predictions([]), FOLDS, 0.05)[0]["pairs"]
        assert pair["cv"]["significant"] is True
        assert pair["cv"]["verdict"].startswith("Boost vs Forest: +0.452 CV accuracy, 95% CI [+")
        assert pair["cv"]["verdict"].endswith(": Boost is significantly better")

    def test_verdict_says_no_difference_within_the_noise(self):
        models = _models(
            ("Forest", [0.96, 0.92, 1.0, 0.96, 0.92]), ("Boost", [0.92, 0.96, 0.96, 0.92, 0.96])
        )
        (pair,) = compare_models(models, _predictions([]), FOLDS, 0.05)[0]["pairs"]
        assert pair["cv"]["significant"] is False
        assert pair["cv"]["verdict"] == (
            "Forest vs Boost: +0.008 CV accuracy, 95% CI "
            f"[{pair['cv']['ci_low']:+.2f}, {pair['cv']['ci_high']:+.2f}], "
            f"p = {pair['cv']['p_value']:.2f}: no significant difference"
        )

    def test_held_out_rows_get_mcnemar(self):
        models = _models(("Forest", [0.9] * 2), ("Boost", [0.8] * 2))
        target = [0] * 12
        forest = [0] * 10 + [1, 1]  # wrong on the last two rows
        boost = [1] * 10 + [0, 0]  # right only on the last two
        (pair,) = compare_models(
            models, _predictions(target, forest=forest, boost=boost), FOLDS[:2], 0.05
        )[0]["pairs"]
        expected = mcnemar_exact(np.equal(forest, 0), np.equal(boost, 0))
        assert (pair["held_out"]["only_a_right"], pair["held_out"]["only_b_right"]) == (10, 2)
        assert pair["held_out"]["p_value"] == pytest.approx(expected.p_value)
        assert pair["held_out"]["p_value"] == pytest.approx(2 * (1 + 12 + 66) / 2**12)
        assert pair["held_out"]["verdict"].endswith("Forest is significantly better")

    def test_ranking_marks_who_is_indistinguishable_from_the_best(self):
        models = _models(
            ("Forest", [0.96, 0.92, 1.0, 0.96, 0.92]),
            ("Boost", [0.92, 0.96, 0.96, 0.92, 0.96]),
            ("Trees", [0.5, 0.52, 0.48, 0.5, 0.51]),
        )
        ranking = compare_models(models, _predictions([]), FOLDS, 0.05)[1]
        assert [(r["rank"], r["model"], r["versus_best"]) for r in ranking] == [
            (1, "forest", "best"),
            (2, "boost", "indistinguishable"),
            (3, "trees", "worse"),
        ]
        assert ranking[0]["p_value_vs_best"] is None
        assert ranking[2]["p_value_vs_best"] < 0.05

    def test_a_stricter_level_needs_stronger_evidence(self):
        models = _models(
            ("Forest", [0.9, 0.92, 0.88, 0.9, 0.91]), ("Boost", [0.93, 0.92, 0.92, 0.95, 0.9])
        )
        p_value = compare_models(models, _predictions([]), FOLDS, 0.05)[0]["pairs"][0]["cv"][
            "p_value"
        ]
        loose = compare_models(models, _predictions([]), FOLDS, p_value * 1.01)
        strict = compare_models(models, _predictions([]), FOLDS, p_value * 0.99)
        assert loose[1][1]["versus_best"] == "worse"
        assert strict[1][1]["versus_best"] == "indistinguishable"


def test_metrics_end_with_the_comparison_and_the_ranking(summary_inputs):
    summary = build_metrics(**summary_inputs)
    assert list(summary) == ["run", "models", "comparison", "ranking"]
    assert summary["comparison"] == {**summary_inputs["comparison"], "untuned": None}
    assert summary["ranking"] == summary_inputs["ranking"]
    verdict = summary["comparison"]["pairs"][0]["cv"]["verdict"]
    assert verdict.startswith("XGBoost vs Random Forest: ")
    assert [r["model"] for r in summary["ranking"]] == ["xgboost", "random_forest"]


def test_a_tuned_runs_record_keeps_the_untuned_verdict_in_its_comparison(summary_inputs):
    untuned = {"pairs": [], "ranking": [], "changed": False, "verdict": "..."}
    summary = build_metrics(**{**summary_inputs, "untuned_comparison": untuned})
    assert summary["comparison"]["untuned"] == untuned
    assert summary["comparison"]["pairs"] == summary_inputs["comparison"]["pairs"]


def _training(name, tuned, untuned):
    return {"display_name": name, "cv_scores": tuned, "untuned_cv_scores": untuned}


# Outer-fold scores: far apart (significant at 0.05), and within the noise.
BEHIND = [0.5, 0.52, 0.48, 0.5, 0.51]
AHEAD = [0.95, 0.96, 0.94, 0.97, 0.95]
NOISY_A = [0.96, 0.92, 1.0, 0.96, 0.92]
NOISY_B = [0.92, 0.96, 0.96, 0.92, 0.96]


def _untuned_verdict(**trainings):
    """``compare_untuned`` beside the tuned models' own comparison and ranking."""
    nothing_held_out = _predictions([], **{m: [] for m in trainings})
    scores = score_models(nothing_held_out, **trainings)
    comparison, ranking = compare_models(scores, nothing_held_out, FOLDS, 0.05)
    return compare_untuned(FOLDS, 0.05, comparison, ranking, **trainings), comparison


class TestCompareUntuned:
    def test_nothing_when_no_model_was_tuned(self):
        trainings = {
            "forest": _training("Forest", NOISY_A, None),
            "boost": _training("Boost", NOISY_B, None),
        }
        assert _untuned_verdict(**trainings)[0] == {}

    def test_the_same_paired_test_on_the_untuned_scores(self):
        trainings = {
            "forest": _training("Forest", NOISY_A, BEHIND),
            "boost": _training("Boost", NOISY_B, AHEAD),
        }
        untuned, _ = _untuned_verdict(**trainings)
        (pair,) = untuned["pairs"]
        expected = corrected_resampled_ttest(AHEAD, BEHIND, 96, 24)
        assert pair["models"] == ["boost", "forest"]
        assert pair["cv"]["p_value"] == pytest.approx(expected.p_value)
        assert pair["held_out"] is None  # only the tuned models predicted the held-out rows
        assert [(r["model"], r["versus_best"]) for r in untuned["ranking"]] == [
            ("boost", "best"),
            ("forest", "worse"),
        ]

    def test_says_when_tuning_changed_the_verdict(self):
        trainings = {
            "forest": _training("Forest", NOISY_A, BEHIND),
            "boost": _training("Boost", NOISY_B, AHEAD),
        }
        untuned, tuned = _untuned_verdict(**trainings)
        before, after = untuned["pairs"][0]["cv"]["p_value"], tuned["pairs"][0]["cv"]["p_value"]
        assert untuned["changed"] is True
        assert untuned["verdict"] == (
            f"Tuning changed the verdict: untuned, Boost was significantly better than Forest "
            f"(p = {before:.2g}); tuned, no significant difference between Forest and Boost "
            f"(p = {after:.2f})."
        )

    def test_a_reversed_winner_is_a_changed_verdict(self):
        trainings = {
            "forest": _training("Forest", AHEAD, BEHIND),
            "boost": _training("Boost", BEHIND, AHEAD),
        }
        untuned, _ = _untuned_verdict(**trainings)
        assert untuned["changed"] is True
        assert "untuned, Boost was significantly better than Forest" in untuned["verdict"]
        assert "tuned, Forest was significantly better than Boost" in untuned["verdict"]

    def test_says_when_it_did_not(self):
        trainings = {
            "forest": _training("Forest", [s + 0.01 for s in BEHIND], BEHIND),
            "boost": _training("Boost", AHEAD, AHEAD),
        }
        untuned, _ = _untuned_verdict(**trainings)
        assert untuned["changed"] is False
        assert untuned["verdict"] == "Tuning did not change the verdict."

    def test_a_model_without_a_search_keeps_its_scores(self):
        trainings = {
            "forest": _training("Forest", AHEAD, BEHIND),
            "trees": _training("Trees", NOISY_A, None),  # no search space: not tuned
        }
        untuned, _ = _untuned_verdict(**trainings)
        assert {r["model"]: r["cv_mean"] for r in untuned["ranking"]} == pytest.approx(
            {"trees": np.mean(NOISY_A), "forest": np.mean(BEHIND)}
        )

    def test_says_which_model_ranks_first_when_only_that_changed(self):
        trainings = {
            "forest": _training("Forest", NOISY_B, NOISY_A),
            "boost": _training("Boost", NOISY_A, NOISY_B),
        }
        untuned, _ = _untuned_verdict(**trainings)
        assert untuned["changed"] is False
        assert untuned["verdict"] == (
            "Tuning did not change the verdict "
            "(first untuned: Forest; tuned: Boost; within the noise)."
        )
