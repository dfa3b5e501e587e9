import pytest
from sklearn.base import is_regressor
from sklearn.neighbors import KNeighborsClassifier

from parallel_trees.models import MODELS, ModelSpec


@pytest.mark.parametrize("model", ["random_forest", "xgboost"])
def test_arguments_seed_the_estimator_with_the_shared_random_state(model):
    spec = MODELS[model]
    arguments = spec.arguments({"n_estimators": 3}, random_state=5)
    assert arguments == {"random_state": 5, "n_estimators": 3}
    assert spec.estimator(**arguments).get_params()["random_state"] == 5


def test_an_estimator_without_random_state_is_given_none():
    spec = ModelSpec("k-NN", KNeighborsClassifier)
    assert spec.arguments({"n_neighbors": 3}, random_state=5) == {"n_neighbors": 3}


def test_a_section_random_state_wins():
    assert MODELS["random_forest"].arguments({"random_state": 7}, 21) == {"random_state": 7}


def test_display_names():
    assert MODELS["random_forest"].display_name == "Random Forest"
    assert MODELS["xgboost"].display_name == "XGBoost"


class TestTasks:
    def test_every_model_has_a_regressor_beside_its_classifier(self):
        for spec in MODELS.values():
            assert spec.tasks() == ["classification", "regression"]
            assert is_regressor(spec.estimator_for("regression")())
            assert spec.estimator_for("classification") is spec.estimator

    def test_a_task_subsection_reaches_that_tasks_estimator_only(self):
        section = {
            "n_estimators": 5,
            "classification": {"eval_metric": "mlogloss"},
            "regression": {"eval_metric": "rmse", "n_estimators": 7},
            "search": {"max_depth": {"low": 2, "high": 4}},
        }
        spec = MODELS["xgboost"]
        assert spec.arguments(section, 1, task="classification") == {
            "random_state": 1,
            "n_estimators": 5,
            "eval_metric": "mlogloss",
        }
        assert spec.arguments(section, 1, task="regression") == {
            "random_state": 1,
            "n_estimators": 7,
            "eval_metric": "rmse",
        }

    def test_a_model_without_a_regressor_has_classification_only(self):
        spec = ModelSpec("KNN", KNeighborsClassifier)
        assert spec.tasks() == ["classification"]
        with pytest.raises(ValueError, match="KNN has no regression estimator"):
            spec.estimator_for("regression")

    def test_the_exported_regressor_loads_as_an_xgb_regressor(self, tmp_path):
        import json  # noqa: PLC0415

        import numpy as np  # noqa: PLC0415
        from xgboost import XGBRegressor  # noqa: PLC0415

        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(50, 3)), rng.normal(size=50)
        fitted = XGBRegressor(n_estimators=5).fit(x, y)
        path = tmp_path / "model.json"
        path.write_text(json.dumps(MODELS["xgboost"].export(fitted)))
        loaded = XGBRegressor()
        loaded.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x), fitted.predict(x))
