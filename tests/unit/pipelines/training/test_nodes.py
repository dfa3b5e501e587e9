import json
import os
import pickle
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import f1_score, log_loss, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from xgboost import XGBClassifier

from parallel_trees.errors import TrainingError
from parallel_trees.metrics import chosen, names, scorer
from parallel_trees.models import MODELS
from parallel_trees.pipelines.training import nodes
from parallel_trees.pipelines.training.nodes import (
    IMPORTANCE_REPEATS,
    IMPORTANCE_ROWS,
    evaluate_baseline,
    evaluate_folds,
    explain_model,
    export_model,
    fit_model,
    importance_sample,
    permutation_importances,
    predict_test_rows,
    record_training,
)
from parallel_trees.pipelines.training.pipeline import FOLD_NODES, FoldShare
from tests.helpers.tables import IRIS_YARDSTICK

FOREST = {"n_estimators": 10, "max_depth": None, "min_samples_split": 2, "n_jobs": 1}
BOOSTER = {"n_estimators": 10, "eval_metric": "mlogloss", "tree_method": "hist", "n_jobs": 1}
UNTUNED = {"trials": 0, "inner_folds": 3}
CONTEXT = {"runner": "ParallelRunner", "cores": 4, "fits_at_once": 2, "threads_per_model": 2}
YARDSTICK = IRIS_YARDSTICK
IRIS_ROLES = {
    "numeric": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "categorical": [],
    "many_levels": [],
    "excluded": {},
}


def fit(x_train, y_train, section, model, roles=IRIS_ROLES, seed=21, yardstick=YARDSTICK):
    return fit_model(x_train, y_train, yardstick, roles, section, UNTUNED, seed, CONTEXT, model)


def evaluate(
    x_train, y_train, folds, section, model, part, parts=FOLD_NODES, seed=21, yardstick=YARDSTICK
):
    return evaluate_folds(
        x_train,
        y_train,
        folds,
        yardstick,
        IRIS_ROLES,
        section,
        UNTUNED,
        seed,
        CONTEXT,
        model,
        part=part,
        parts=parts,
    )


def train(x_train, y_train, folds, section, model):
    """A model's branch as the pipeline runs it: each FoldShare, the fit, and their record."""
    shares = [
        FoldShare(part)(
            x_train, y_train, folds, YARDSTICK, IRIS_ROLES, section, UNTUNED, 21, CONTEXT, model
        )
        for part in range(FOLD_NODES)
    ]
    fitted, record = fit(x_train, y_train, section, model)
    return fitted, record_training(model, record, *shares)


def folds_of(y_train, k):
    return list(StratifiedKFold(k, shuffle=True, random_state=21).split(y_train, y_train))


@pytest.fixture(scope="module")
def trained(iris_split, iris_folds):
    """Each model trained once on the default run's data, through all its training nodes."""
    x_train, _, y_train, _ = iris_split
    return {
        "random_forest": train(x_train, y_train, iris_folds, FOREST, "random_forest"),
        "xgboost": train(x_train, y_train, iris_folds, BOOSTER, "xgboost"),
    }


class TestEvaluateFolds:
    @pytest.mark.parametrize("k", [5, 10, 3])
    def test_the_nodes_share_the_folds_each_scored_once_node_k_mod_5(self, iris_split, k):
        x_train, _, y_train, _ = iris_split
        folds = folds_of(y_train, k)
        shares = [
            evaluate(x_train, y_train, folds, FOREST, "random_forest", part)
            for part in range(FOLD_NODES)
        ]
        scored = [[f["fold"] for f in share["folds"]] for share in shares]
        assert scored == [list(range(part, k, FOLD_NODES)) for part in range(FOLD_NODES)]
        assert sorted(sum(scored, [])) == list(range(k))  # every fold once, in order per node
        if k < FOLD_NODES:
            assert scored[k:] == [[]] * (FOLD_NODES - k)  # the nodes left over score nothing

    def test_untuned_score_is_cross_val_score_on_the_same_folds(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        expected = cross_val_score(
            RandomForestClassifier(**FOREST, random_state=21), x_train, y_train, cv=iris_folds
        )
        records = evaluate(x_train, y_train, iris_folds, FOREST, "random_forest", 0, parts=1)
        folds = records["folds"]
        assert [f["fold"] for f in folds] == list(range(len(iris_folds)))
        assert [f["score"] for f in folds] == pytest.approx(expected.tolist())
        assert [f["untuned_score"] for f in folds] == [f["score"] for f in folds]
        assert all(set(f) == {"fold", "score", "untuned_score", "scores"} for f in folds)

    def test_every_metric_of_the_panel_is_scored_on_each_fold(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        (first, *_) = evaluate(x_train, y_train, iris_folds, BOOSTER, "xgboost", 0, parts=1)[
            "folds"
        ]
        model = XGBClassifier(**BOOSTER, random_state=21)
        fit_rows, rows = iris_folds[0]
        model.fit(x_train.iloc[fit_rows], y_train.iloc[fit_rows])
        truth, proba = y_train.iloc[rows], model.predict_proba(x_train.iloc[rows])
        assert set(first["scores"]) == set(names("classification"))
        assert first["scores"]["accuracy"] == first["score"]
        assert first["scores"]["log_loss"] == pytest.approx(log_loss(truth, proba), rel=1e-6)
        assert first["scores"]["roc_auc"] == pytest.approx(
            roc_auc_score(truth, proba, multi_class="ovr", average="weighted")
        )
        assert first["scores"]["f1"] == pytest.approx(
            f1_score(truth, model.predict(x_train.iloc[rows]), average="macro")
        )

    def test_the_run_metric_is_the_score_compared(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        loss = YARDSTICK | {"metric": "log_loss", "greater_is_better": False}
        folds = evaluate(x_train, y_train, iris_folds, FOREST, "random_forest", 0, 1, 21, loss)
        assert [f["score"] for f in folds["folds"]] == [
            f["scores"]["log_loss"] for f in folds["folds"]
        ]

    def test_records_its_span_in_this_process(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        span = evaluate(x_train, y_train, iris_folds, BOOSTER, "xgboost", 2)["timing"]
        assert span["node"] == "cross_validate_3_of_5"
        assert span["pid"] == os.getpid()
        assert span["started_at"] <= span["finished_at"] <= time.time()
        assert span["cpu_seconds"] >= 0

    def test_same_seed_same_scores(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        first, again = (
            evaluate(x_train, y_train, iris_folds, BOOSTER, "xgboost", 1) for _ in range(2)
        )
        assert again["folds"] == first["folds"]


class TestFoldShare:
    @pytest.mark.parametrize("dumps", [pickle.dumps, ForkingPickler.dumps])
    def test_pickles_with_its_share_and_its_name(self, dumps):
        copy = pickle.loads(dumps(FoldShare(3)))
        assert copy == FoldShare(3)
        assert copy.__name__ == "evaluate_folds"  # Kedro names the node's function by it

    def test_scores_its_share_of_the_folds(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        args = (x_train, y_train, iris_folds, YARDSTICK, IRIS_ROLES, FOREST, UNTUNED, 21, CONTEXT)
        share = FoldShare(4)(*args, "random_forest")
        assert share == evaluate(x_train, y_train, iris_folds, FOREST, "random_forest", 4) | {
            "timing": share["timing"]
        }
        assert [f["fold"] for f in share["folds"]] == [4]


class TestFitModel:
    @pytest.mark.parametrize(
        ("model", "estimator"),
        [("random_forest", RandomForestClassifier), ("xgboost", XGBClassifier)],
    )
    def test_returns_the_fitted_estimator_built_from_its_section(
        self, iris_split, model, estimator
    ):
        x_train, x_test, y_train, _ = iris_split
        fitted, record = fit(
            x_train, y_train, FOREST if model == "random_forest" else BOOSTER, model
        )
        assert isinstance(fitted[-1], estimator)
        assert fitted[-1].get_params()["n_estimators"] == 10
        assert fitted[-1].get_params()["random_state"] == 21
        assert fitted[-1].get_params()["n_jobs"] == 1
        fitted.predict(x_test)  # fitted, or this raises NotFittedError
        assert record["hyperparameters"]["random_state"] == 21
        assert record["search"] is None  # untuned: no search
        assert record["timing"]["node"] == "fit_model"
        assert record["timing"]["pid"] == os.getpid()

    def test_section_random_state_wins_over_the_shared_one(self, iris_split):
        x_train, _, y_train, _ = iris_split
        fitted, record = fit(x_train, y_train, {**FOREST, "random_state": 7}, "random_forest")
        assert fitted[-1].random_state == 7
        assert record["hyperparameters"]["random_state"] == 7

    def test_n_jobs_auto_is_the_run_contexts_threads_per_model(self, iris_split):
        x_train, _, y_train, _ = iris_split
        fitted, record = fit(x_train, y_train, {**BOOSTER, "n_jobs": "auto"}, "xgboost")
        assert fitted[-1].get_params()["n_jobs"] == record["hyperparameters"]["n_jobs"] == 2

    def test_the_search_space_is_not_an_argument_of_the_estimator(self, iris_split):
        x_train, _, y_train, _ = iris_split
        section = {**FOREST, "search": {"max_depth": {"low": 2, "high": 8}}}
        fitted, record = fit(x_train, y_train, section, "random_forest")
        assert "search" not in record["hyperparameters"]
        assert fitted[-1].max_depth is None  # untuned: the section's own value

    @pytest.mark.parametrize(
        ("model", "section", "message"),
        [
            (
                "random_forest",
                {**FOREST, "max_features": "bogus"},
                "Random Forest (random_forest) could not be trained: The 'max_features' "
                "parameter of RandomForestClassifier must be",
            ),
            (
                "xgboost",
                {**BOOSTER, "learning_rate": -1},
                "XGBoost (xgboost) could not be trained: value -1 for Parameter learning_rate",
            ),
        ],
    )
    @pytest.mark.parametrize("node", ["fit_model", "evaluate_folds"])
    def test_a_rejected_parameter_names_the_model_and_the_parameter(
        self, iris_split, iris_folds, model, section, message, node
    ):
        x_train, _, y_train, _ = iris_split
        with pytest.raises(TrainingError) as error:
            if node == "fit_model":
                fit(x_train, y_train, section, model)
            else:
                evaluate(x_train, y_train, iris_folds, section, model, 0)
        assert str(error.value).startswith(message)
        key = next(k for k in section if k not in (FOREST | BOOSTER))
        assert str(error.value).endswith(f" Change {model}.{key} = {section[key]!r}.")
        assert error.value.settings == (f"{model}.{key}",)  # the run guard says where it is set


def node_records(training):
    """A training record taken apart: the fit's record, and one per fold node (a fold each)."""
    *spans, fit_span = training["timing"]
    parts = [{"folds": [f], "timing": s} for f, s in zip(training["folds"], spans, strict=True)]
    fit_record = {
        "estimator": training["estimator"],
        "hyperparameters": training["hyperparameters"],
        "search": None,
    }
    return fit_record | {"timing": fit_span}, parts


class TestRecordTraining:
    def test_cv_scores_are_those_of_the_shared_folds_in_fold_order(
        self, trained, iris_split, iris_folds
    ):
        x_train, _, y_train, _ = iris_split
        expected = cross_val_score(
            RandomForestClassifier(**FOREST, random_state=21), x_train, y_train, cv=iris_folds
        )
        training = trained["random_forest"][1]
        assert [f["fold"] for f in training["folds"]] == list(range(5))
        assert training["cv_scores"] == pytest.approx(expected.tolist())
        assert len(trained["xgboost"][1]["cv_scores"]) == 5

    def test_the_nodes_order_does_not_change_the_folds_order(self, trained):
        training = trained["xgboost"][1]
        fit_record, parts = node_records(training)
        joined = record_training("xgboost", fit_record, *reversed(parts))
        assert [f["fold"] for f in joined["folds"]] == list(range(5))
        assert joined["cv_scores"] == training["cv_scores"]

    @pytest.mark.parametrize(
        ("model", "estimator"),
        [("random_forest", RandomForestClassifier), ("xgboost", XGBClassifier)],
    )
    def test_names_the_model_and_the_saved_models_arguments(self, trained, model, estimator):
        fitted, training = trained[model]
        assert training["display_name"] == MODELS[model].display_name
        assert training["estimator"] == estimator.__name__
        assert training["hyperparameters"]["random_state"] == 21
        params = fitted[-1].get_params()
        assert all(params[k] == v for k, v in training["hyperparameters"].items())

    def test_untuned_has_no_untuned_scores_and_no_search(self, trained):
        training = trained["xgboost"][1]
        assert training["untuned_cv_scores"] is None
        assert training["search"] is None

    def test_timing_is_a_span_per_training_node_fold_nodes_first(self, trained):
        timing = trained["xgboost"][1]["timing"]
        assert [s["node"] for s in timing] == [
            *(f"cross_validate_{n}_of_5" for n in range(1, FOLD_NODES + 1)),
            "fit_model",
        ]
        assert {s["pid"] for s in timing} == {os.getpid()}
        assert all(s["started_at"] <= s["finished_at"] <= time.time() for s in timing)

    def test_logs_the_models_folds_and_nodes(self, trained, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        fit_record, parts = node_records(trained["random_forest"][1])
        record_training("random_forest", fit_record, *parts)
        assert "Trained Random Forest: 5-fold CV and a fit on all training rows, " in caplog.text
        assert " s of CPU in 6 nodes" in caplog.text


def test_exported_xgboost_loads_without_pickle_and_predicts_the_same(trained, iris_split, tmp_path):
    fitted, _ = trained["xgboost"]
    document = export_model(fitted, "xgboost")
    path = tmp_path / "xgboost.json"
    path.write_text(json.dumps(document))
    loaded = XGBClassifier()
    loaded.load_model(path)
    x_test = iris_split[1]
    # The booster alone: it takes the columns the model's steps before it make of raw rows.
    columns = fitted[:-1].transform(x_test)
    assert loaded.predict(columns).tolist() == fitted.predict(x_test).tolist()
    np.testing.assert_allclose(loaded.predict_proba(columns), fitted.predict_proba(x_test))


class TestPredictTestRows:
    def test_one_prediction_per_held_out_row_with_each_class_probability(self, trained, iris_split):
        _, x_test, _, _ = iris_split
        fitted, _ = trained["random_forest"]
        predictions = predict_test_rows(fitted, x_test, YARDSTICK)
        assert predictions.index.equals(x_test.index)
        assert predictions.columns.tolist() == [
            "prediction",
            "probability_0",
            "probability_1",
            "probability_2",
        ]
        assert predictions["prediction"].tolist() == fitted.predict(x_test).tolist()
        np.testing.assert_allclose(predictions.iloc[:, 1:].to_numpy(), fitted.predict_proba(x_test))

    def test_xgboosts_probabilities_sum_to_one_exactly(self, trained, iris_split):
        predictions = predict_test_rows(trained["xgboost"][0], iris_split[1], YARDSTICK)
        assert (predictions.iloc[:, 1:].sum(axis=1) == 1.0).all()  # float32 made exact

    def test_nothing_held_out_gives_no_predictions(self, trained, iris_split):
        predictions = predict_test_rows(trained["xgboost"][0], iris_split[1].iloc[:0], YARDSTICK)
        assert predictions.empty


class TestEvaluateBaseline:
    def test_it_guesses_the_most_frequent_class_with_the_shares_as_probabilities(self):
        x = pd.DataFrame({"width": range(100)})
        y = pd.Series([0] * 70 + [1] * 30)
        folds = folds_of(y, 5)
        yardstick = YARDSTICK | {
            "classes": 2,
            "positive": 1,
            "majority": "front",
            "guess": "'front'",
        }
        record, predictions = evaluate_baseline(
            x, y, x.iloc[:10], folds, yardstick, ["front", "rear"]
        )
        assert record["baseline"] is True and record["guess"] == "front"
        assert record["cv_scores"] == pytest.approx([0.7] * 5)  # always 'front': 70% right
        assert [f["scores"]["roc_auc"] for f in record["folds"]] == [0.5] * 5
        assert record["folds"][0]["scores"]["log_loss"] == pytest.approx(
            -(0.7 * np.log(0.7) + 0.3 * np.log(0.3))  # the classes' shares, as probabilities
        )
        assert predictions["prediction"].tolist() == [0] * 10
        assert predictions["probability_1"].tolist() == pytest.approx([0.3] * 10)

    def test_it_is_scored_by_the_run_metric(self):
        x = pd.DataFrame({"width": range(100)})
        y = pd.Series([0] * 70 + [1] * 30)
        yardstick = YARDSTICK | {"metric": "balanced_accuracy", "classes": 2, "positive": 1}
        record, _ = evaluate_baseline(x, y, x.iloc[:0], folds_of(y, 5), yardstick, ["a", "b"])
        assert record["cv_scores"] == [0.5] * 5


@pytest.fixture(scope="module")
def many_held_out():
    """A fitted forest, and twice ``IMPORTANCE_ROWS`` held-out rows of three classes of
    70, 25 and 5%: more than the cap."""
    rng = np.random.default_rng(0)
    rows = 2 * IMPORTANCE_ROWS
    y = pd.Series(rng.choice(3, size=rows, p=[0.7, 0.25, 0.05]))
    x = pd.DataFrame({"signal": y + rng.normal(0, 0.5, rows), "noise": rng.normal(0, 1, rows)})
    roles = {"numeric": ["signal", "noise"], "categorical": [], "many_levels": [], "excluded": {}}
    model, _ = fit(x[:500], y[:500], FOREST | {"n_estimators": 5}, "random_forest", roles)
    return model, x, y, roles


class TestExplainModel:
    def test_each_column_of_the_table_gets_its_importance_on_the_held_out_rows(
        self, trained, iris_split
    ):
        x_train, x_test, y_train, y_test = iris_split
        fitted, _ = trained["random_forest"]
        importance = explain_model(
            fitted, x_test, y_test, x_train, y_train, IRIS_ROLES, 21, YARDSTICK
        )
        assert importance["rows"] == "held-out"
        assert importance["metric"] == "accuracy"
        assert list(importance["columns"]) == IRIS_ROLES["numeric"]
        petal = importance["columns"]["petal length (cm)"]["mean"]
        assert petal > importance["columns"]["sepal width (cm)"]["mean"]

    def test_fewer_rows_than_the_cap_are_all_measured_as_scikit_learn_measures_them(
        self, trained, iris_split
    ):
        x_train, x_test, y_train, y_test = iris_split
        fitted, _ = trained["xgboost"]
        importance = explain_model(
            fitted, x_test, y_test, x_train, y_train, IRIS_ROLES, 21, YARDSTICK
        )
        assert len(x_test) == 30 < IMPORTANCE_ROWS
        assert importance["measured_on"] == importance["out_of"] == 30
        assert importance["sample"] == "all"
        assert importance["repeats"] == IMPORTANCE_REPEATS
        uncapped = permutation_importance(
            fitted,
            x_test,
            y_test,
            scoring=scorer(chosen("accuracy", "classification"), 3, 1),
            n_repeats=IMPORTANCE_REPEATS,
            random_state=21,
        )
        columns = importance["columns"].values()
        assert [c["mean"] for c in columns] == uncapped.importances_mean.tolist()
        assert [c["std"] for c in columns] == uncapped.importances_std.tolist()

    def test_it_is_measured_by_the_run_metric_worse_positive_even_for_a_loss(
        self, trained, iris_split
    ):
        x_train, x_test, y_train, y_test = iris_split
        loss = YARDSTICK | {"metric": "log_loss", "greater_is_better": False}
        importance = explain_model(
            trained["xgboost"][0], x_test, y_test, x_train, y_train, IRIS_ROLES, 21, loss
        )
        assert importance["metric"] == "log_loss"
        # Shuffling the petals makes the loss grow: a positive importance.
        assert importance["columns"]["petal length (cm)"]["mean"] > 0.1

    def test_without_held_out_rows_it_measures_on_the_training_rows(self, trained, iris_split):
        x_train, x_test, y_train, y_test = iris_split
        importance = explain_model(
            trained["xgboost"][0],
            x_test[:0],
            y_test[:0],
            x_train,
            y_train,
            IRIS_ROLES,
            21,
            YARDSTICK,
        )
        assert importance["rows"] == "training"
        assert importance["measured_on"] == importance["out_of"] == len(x_train) == 120


class TestImportanceCap:
    def test_more_rows_than_the_cap_are_measured_on_a_sample_of_cap_rows(self, many_held_out):
        model, x, y, roles = many_held_out
        importance = explain_model(model, x, y, x[:0], y[:0], roles, 21, YARDSTICK)
        assert importance["out_of"] == 2 * IMPORTANCE_ROWS
        assert importance["measured_on"] == IMPORTANCE_ROWS
        assert importance["sample"] == "stratified"
        assert importance["columns"]["signal"]["mean"] > importance["columns"]["noise"]["mean"]

    def test_the_baseline_and_every_shuffle_score_one_sample_with_each_class_share(
        self, many_held_out, monkeypatch
    ):
        model, x, y, roles = many_held_out
        seen = []

        def spy(estimator, features, labels, *args):
            seen.append((features, labels))
            return permutation_importances(estimator, features, labels, *args)

        monkeypatch.setattr(nodes, "permutation_importances", spy)
        explain_model(model, x, y, x[:0], y[:0], roles, 21, YARDSTICK)
        ((features, labels),) = seen  # one sample: the baseline and the shuffles alike
        assert features.index.equals(labels.index) and labels.index.is_monotonic_increasing
        shares = labels.value_counts(normalize=True).sort_index()
        assert shares.to_numpy() == pytest.approx(
            y.value_counts(normalize=True).sort_index().to_numpy(), abs=1 / IMPORTANCE_ROWS
        )

    def test_the_same_seed_gives_the_same_importances_and_another_seed_another_sample(
        self, many_held_out
    ):
        model, x, y, roles = many_held_out
        first, again, other = (
            explain_model(model, x, y, x[:0], y[:0], roles, seed, YARDSTICK)
            for seed in (21, 21, 22)
        )
        assert first == again
        assert first["columns"] != other["columns"]
        assert not np.array_equal(
            importance_sample(y, IMPORTANCE_ROWS, 21, stratify=True),
            importance_sample(y, IMPORTANCE_ROWS, 22, stratify=True),
        )


class TestPermutationImportances:
    """The project's batched predictions give scikit-learn's ``permutation_importance``,
    value for value."""

    @staticmethod
    def scikit_learns(model, x, y, metric, classes):
        return permutation_importance(
            model,
            x,
            y,
            scoring=scorer(chosen(metric, "classification"), classes, 1),
            n_repeats=IMPORTANCE_REPEATS,
            random_state=21,
        ).importances

    @pytest.mark.parametrize("metric", ["accuracy", "log_loss"])
    def test_a_forest_on_a_table_with_a_categorical_column(self, metric):
        rng = np.random.default_rng(1)
        y = pd.Series(rng.choice(3, size=300))
        x = pd.DataFrame(
            {
                "signal": y + rng.normal(0, 0.8, 300),
                "colour": pd.Categorical(rng.choice(["red", "blue"], 300)),
                "noise": rng.normal(0, 1, 300),
            }
        )
        roles = {"numeric": ["signal", "noise"], "categorical": ["colour"]}
        roles |= {"many_levels": [], "excluded": {}}
        model, _ = fit(x[:200], y[:200], FOREST | {"n_estimators": 7}, "random_forest", roles)
        judge = nodes.Judge(YARDSTICK | {"metric": metric})
        ours = permutation_importances(model, x[200:], y[200:], judge, IMPORTANCE_REPEATS, 21)
        assert ours.shape == (3, IMPORTANCE_REPEATS)
        assert np.array_equal(ours, self.scikit_learns(model, x[200:], y[200:], metric, 3))

    def test_the_same_whether_the_columns_are_predicted_together_or_apart(
        self, trained, iris_split, monkeypatch
    ):
        _, x_test, _, y_test = iris_split
        model, _ = trained["xgboost"]
        judge = nodes.Judge(YARDSTICK)
        together = permutation_importances(model, x_test, y_test, judge, IMPORTANCE_REPEATS, 21)
        predicted = []
        original = nodes.Judge.outcome
        monkeypatch.setattr(
            nodes.Judge,
            "outcome",
            lambda self, *args: predicted.append(len(args[1])) or original(self, *args),
        )
        monkeypatch.setattr(nodes, "PREDICTED_ROWS", 2 * len(x_test) * IMPORTANCE_REPEATS)
        apart = permutation_importances(model, x_test, y_test, judge, IMPORTANCE_REPEATS, 21)
        # The baseline, then two columns' shuffles at a time.
        assert predicted == [len(x_test)] + [2 * len(x_test) * IMPORTANCE_REPEATS] * 2
        assert np.array_equal(together, apart)
        assert np.array_equal(together, self.scikit_learns(model, x_test, y_test, "accuracy", 3))


class TestImportanceSample:
    def test_no_more_rows_than_the_cap_means_all_of_them(self):
        y = pd.Series([0, 1] * 5)
        assert importance_sample(y, 10, 21, stratify=True) is None
        assert importance_sample(y, 11, 21, stratify=False) is None

    def test_a_stratified_sample_keeps_every_class_share_even_a_rare_one(self):
        y = pd.Series([0] * 900 + [1] * 90 + [2] * 10)
        sample = importance_sample(y, 100, 21, stratify=True)
        assert np.bincount(y.iloc[sample]).tolist() == [90, 9, 1]
        assert len(set(sample)) == 100 and np.all(np.diff(sample) > 0)  # distinct, in order

    def test_a_regression_sample_is_a_seeded_random_one(self):
        y = pd.Series(np.linspace(0, 1, 1000))
        sample = importance_sample(y, 100, 21, stratify=False)
        assert len(set(sample)) == 100 and np.all(np.diff(sample) > 0)
        assert np.array_equal(sample, importance_sample(y, 100, 21, stratify=False))


class TestRegression:
    YARDSTICK = YARDSTICK | {
        "task": "regression",
        "metric": "rmse",
        "greater_is_better": False,
        "classes": 0,
        "majority": None,
        "guess": "the mean (150)",
    }
    ROLES = {
        "numeric": ["age", "bmi", "bp", "s5"],
        "categorical": [],
        "many_levels": [],
        "excluded": {},
    }

    @pytest.fixture(scope="class")
    @classmethod
    def diabetes(cls):
        """Its first 350 rows to train on (5 shuffled folds), the rest held out."""
        from sklearn.datasets import load_diabetes  # noqa: PLC0415

        x, y = load_diabetes(return_X_y=True, as_frame=True)
        x = x[cls.ROLES["numeric"]]
        folds = list(KFold(5, shuffle=True, random_state=21).split(x.iloc[:350]))
        return x.iloc[:350], y.iloc[:350], x.iloc[350:], y.iloc[350:], folds

    def test_more_held_out_rows_than_the_cap_are_a_random_sample_of_them(self):
        rng = np.random.default_rng(0)
        x = pd.DataFrame({"age": rng.normal(size=IMPORTANCE_ROWS + 10)})
        y = pd.Series(3 * x["age"] + rng.normal(size=len(x)))
        roles = {**self.ROLES, "numeric": ["age"]}
        model, _ = fit(x[:300], y[:300], FOREST, "random_forest", roles, yardstick=self.YARDSTICK)
        importance = explain_model(model, x, y, x[:0], y[:0], roles, 21, self.YARDSTICK)
        assert (importance["measured_on"], importance["sample"]) == (IMPORTANCE_ROWS, "random")
        assert importance["columns"]["age"]["mean"] > 1

    def test_the_regressor_is_fitted_and_scored_by_rmse(self, diabetes):
        x, y, x_test, _, folds = diabetes
        fitted, record = fit_model(
            x, y, self.YARDSTICK, self.ROLES, FOREST, UNTUNED, 21, CONTEXT, "random_forest"
        )
        assert record["estimator"] == "RandomForestRegressor"
        part = evaluate_folds(
            x, y, folds, self.YARDSTICK, self.ROLES, FOREST, UNTUNED, 21, CONTEXT,
            "random_forest", part=0, parts=1,
        )  # fmt: skip
        expected = -cross_val_score(
            RandomForestRegressor(**FOREST, random_state=21), x, y, cv=folds,
            scoring="neg_root_mean_squared_error",
        )  # fmt: skip
        assert [f["score"] for f in part["folds"]] == pytest.approx(expected.tolist())
        assert set(part["folds"][0]["scores"]) == {"rmse", "mae", "r2", "mape"}
        predicted = predict_test_rows(fitted, x_test, self.YARDSTICK)
        assert predicted.columns.tolist() == ["prediction"]
        assert predicted["prediction"].tolist() == pytest.approx(fitted.predict(x_test).tolist())

    def test_a_classifiers_argument_is_refused_naming_where_it_belongs(self, diabetes):
        x, y, *_ = diabetes
        section = FOREST | {"class_weight": "balanced"}
        with pytest.raises(TrainingError) as error:
            fit_model(
                x, y, self.YARDSTICK, self.ROLES, section, UNTUNED, 21, CONTEXT, "random_forest"
            )
        assert str(error.value) == (
            "Random Forest (random_forest): RandomForestRegressor, this regression run's "
            "estimator, does not take random_forest.class_weight. Move it under "
            "random_forest.classification (arguments of the classification estimator only), "
            "or remove it."
        )

    def test_the_baseline_always_guesses_the_training_mean(self, diabetes):
        x, y, x_test, _, folds = diabetes
        record, predicted = evaluate_baseline(x, y, x_test, folds, self.YARDSTICK, [])
        assert record["estimator"] == "DummyRegressor"
        assert record["guess"] == pytest.approx(y.mean())
        assert predicted["prediction"].tolist() == pytest.approx([y.mean()] * len(x_test))
        fit_rows, valid = folds[0]
        rmse = float(np.sqrt(np.mean((y.iloc[valid] - y.iloc[fit_rows].mean()) ** 2)))
        assert record["cv_scores"][0] == pytest.approx(rmse)


def test_a_model_without_a_regressor_sits_a_regression_out_saying_why(monkeypatch, caplog):
    from parallel_trees.models import ForestParams, ModelSpec  # noqa: PLC0415
    from parallel_trees.pipelines.training.nodes import LeftOut  # noqa: PLC0415

    caplog.set_level("INFO", logger="parallel_trees")
    monkeypatch.setitem(
        MODELS, "random_forest", ModelSpec("Random Forest", RandomForestClassifier, ForestParams)
    )
    yardstick = TestRegression.YARDSTICK
    x = pd.DataFrame({"age": np.arange(20.0)})
    y = pd.Series(np.arange(20.0))
    folds = list(KFold(2).split(x))
    roles = {"numeric": ["age"], "categorical": [], "many_levels": [], "excluded": {}}
    args = (yardstick, roles, FOREST, UNTUNED, 21, CONTEXT, "random_forest")
    part = evaluate_folds(x, y, folds, *args, part=0, parts=1)
    model, fit_record = fit_model(x, y, *args)
    why = "Random Forest (random_forest) has no regression estimator (its ModelSpec's regressor)"
    assert model == LeftOut(why) and part["folds"] == [] and part["left_out"] == why
    assert f"Left out of this run: {why}" in caplog.text
    training = record_training("random_forest", fit_record, part)
    assert training["left_out"] == why and training["cv_scores"] == []
    assert predict_test_rows(model, x, yardstick).empty
    assert explain_model(model, x, y, x, y, roles, 21, yardstick)["columns"] == {}
    assert export_model(model, "random_forest") == {"left_out": why}
