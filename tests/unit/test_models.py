import pytest
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
