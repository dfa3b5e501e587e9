import json
import os
import pickle
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from xgboost import XGBClassifier

from parallel_trees.errors import TrainingError
from parallel_trees.models import MODELS
from parallel_trees.pipelines.training.nodes import (
    evaluate_folds,
    explain_model,
    export_model,
    fit_model,
    predict_test_rows,
    record_training,
)
from parallel_trees.pipelines.training.pipeline import FOLD_NODES, FoldShare

FOREST = {"n_estimators": 10, "max_depth": None, "min_samples_split": 2, "n_jobs": 1}
BOOSTER = {"n_estimators": 10, "eval_metric": "mlogloss", "tree_method": "hist", "n_jobs": 1}
UNTUNED = {"trials": 0, "inner_folds": 3}
CONTEXT = {"runner": "ParallelRunner", "cores": 4, "fits_at_once": 2, "threads_per_model": 2}
IRIS_ROLES = {
    "numeric": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "categorical": [],
    "many_levels": [],
    "excluded": {},
}


def fit(x_train, y_train, section, model, roles=IRIS_ROLES, seed=21):
    return fit_model(x_train, y_train, roles, section, UNTUNED, seed, CONTEXT, model)


def evaluate(x_train, y_train, folds, section, model, part, parts=FOLD_NODES, seed=21):
    return evaluate_folds(
        x_train,
        y_train,
        folds,
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
        FoldShare(part)(x_train, y_train, folds, IRIS_ROLES, section, UNTUNED, 21, CONTEXT, model)
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
        assert all(set(f) == {"fold", "score", "untuned_score"} for f in folds)  # no search

    def test_records_its_span_in_this_process(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        span = evaluate(x_train, y_train, iris_folds, BOOSTER, "xgboost", 2)["timing"]
        assert span["node"] == "evaluate_folds_3"
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
        args = (x_train, y_train, iris_folds, IRIS_ROLES, FOREST, UNTUNED, 21, CONTEXT)
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
    fit_record = {"hyperparameters": training["hyperparameters"], "search": None}
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
            *(f"evaluate_folds_{n}" for n in range(1, FOLD_NODES + 1)),
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
    # The booster alone: it takes the columns the model's first step makes of raw rows.
    columns = fitted[0].transform(x_test)
    assert loaded.predict(columns).tolist() == fitted.predict(x_test).tolist()
    np.testing.assert_allclose(loaded.predict_proba(columns), fitted.predict_proba(x_test))


class TestPredictTestRows:
    def test_one_prediction_per_held_out_row_indexed_as_the_rows(self, trained, iris_split):
        _, x_test, _, _ = iris_split
        fitted, _ = trained["random_forest"]
        predictions = predict_test_rows(fitted, x_test)
        assert predictions.index.equals(x_test.index)
        assert predictions.tolist() == fitted.predict(x_test).tolist()

    def test_nothing_held_out_gives_no_predictions(self, trained, iris_split):
        predictions = predict_test_rows(trained["xgboost"][0], iris_split[1].iloc[:0])
        assert predictions.empty


class TestExplainModel:
    def test_each_column_of_the_table_gets_its_importance_on_the_held_out_rows(
        self, trained, iris_split
    ):
        x_train, x_test, y_train, y_test = iris_split
        fitted, _ = trained["random_forest"]
        importance = explain_model(fitted, x_test, y_test, x_train, y_train, IRIS_ROLES, 21)
        assert importance["rows"] == "held-out"
        assert list(importance["columns"]) == IRIS_ROLES["numeric"]
        petal = importance["columns"]["petal length (cm)"]["mean"]
        assert petal > importance["columns"]["sepal width (cm)"]["mean"]

    def test_without_held_out_rows_it_measures_on_the_training_rows(self, trained, iris_split):
        x_train, x_test, y_train, y_test = iris_split
        importance = explain_model(
            trained["xgboost"][0], x_test[:0], y_test[:0], x_train, y_train, IRIS_ROLES, 21
        )
        assert importance["rows"] == "training"
