import json
import os
import time

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score
from xgboost import XGBClassifier

from parallel_trees.errors import TrainingError
from parallel_trees.pipelines.training.nodes import (
    explain_model,
    export_model,
    predict_test_rows,
    train_model,
)

FOREST = {"n_estimators": 10, "max_depth": None, "min_samples_split": 2, "n_jobs": 1}
BOOSTER = {"n_estimators": 10, "eval_metric": "mlogloss", "tree_method": "hist", "n_jobs": 1}
CONTEXT = {"runner": "ParallelRunner", "cores": 4, "models_at_once": 2, "threads_per_model": 2}
IRIS_ROLES = {
    "numeric": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "categorical": [],
    "many_levels": [],
    "excluded": {},
}


def train(x_train, y_train, folds, section, model, roles=IRIS_ROLES, seed=21):
    return train_model(x_train, y_train, folds, roles, section, seed, CONTEXT, model)


@pytest.fixture(scope="module")
def trained(iris_split, iris_folds):
    """Each model trained once on the default run's data."""
    x_train, _, y_train, _ = iris_split
    return {
        "random_forest": train(x_train, y_train, iris_folds, FOREST, "random_forest"),
        "xgboost": train(x_train, y_train, iris_folds, BOOSTER, "xgboost"),
    }


class TestTrainModel:
    @pytest.mark.parametrize(
        ("model", "estimator"),
        [("random_forest", RandomForestClassifier), ("xgboost", XGBClassifier)],
    )
    def test_returns_the_fitted_estimator_built_from_its_section(
        self, trained, iris_split, model, estimator
    ):
        fitted, record = trained[model]
        assert isinstance(fitted[-1], estimator)
        assert fitted[-1].get_params()["n_estimators"] == 10
        assert fitted[-1].get_params()["random_state"] == 21
        assert fitted[-1].get_params()["n_jobs"] == 1
        fitted.predict(iris_split[1])  # fitted, or this raises NotFittedError
        assert record["estimator"] == estimator.__name__
        assert record["hyperparameters"]["random_state"] == 21

    def test_cv_scores_are_those_of_the_shared_folds(self, trained, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        expected = cross_val_score(
            RandomForestClassifier(**FOREST, random_state=21), x_train, y_train, cv=iris_folds
        )
        assert trained["random_forest"][1]["cv_scores"] == pytest.approx(expected.tolist())
        assert len(trained["xgboost"][1]["cv_scores"]) == 5

    def test_records_where_and_when_it_trained(self, trained):
        training = trained["xgboost"][1]["timing"]
        assert training["pid"] == os.getpid()
        assert training["started_at"] <= training["finished_at"] <= time.time()

    def test_section_random_state_wins_over_the_shared_one(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        section = {**FOREST, "random_state": 7}
        fitted, record = train(x_train, y_train, iris_folds, section, "random_forest")
        assert fitted[-1].random_state == 7
        assert record["hyperparameters"]["random_state"] == 7

    def test_n_jobs_auto_is_the_run_contexts_threads_per_model(self, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        section = {**BOOSTER, "n_jobs": "auto"}
        fitted, record = train(x_train, y_train, iris_folds, section, "xgboost")
        assert fitted[-1].get_params()["n_jobs"] == record["hyperparameters"]["n_jobs"] == 2

    def test_same_seed_same_scores(self, trained, iris_split, iris_folds):
        x_train, _, y_train, _ = iris_split
        _, again = train(x_train, y_train, iris_folds, BOOSTER, "xgboost")
        assert again["cv_scores"] == trained["xgboost"][1]["cv_scores"]

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
    def test_a_rejected_parameter_names_the_model_and_the_parameter(
        self, iris_split, iris_folds, model, section, message
    ):
        x_train, _, y_train, _ = iris_split
        with pytest.raises(TrainingError) as error:
            train(x_train, y_train, iris_folds, section, model)
        assert str(error.value).startswith(message)
        key = next(k for k in section if k not in (FOREST | BOOSTER))
        assert str(error.value).endswith(f" Change {model}.{key} = {section[key]!r}.")
        assert error.value.settings == (f"{model}.{key}",)  # the run guard says where it is set


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
