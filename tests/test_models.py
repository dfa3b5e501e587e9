import pytest
from sklearn.neighbors import KNeighborsClassifier

from parallel_trees.models import MODELS, ModelSpec


@pytest.mark.parametrize("model", MODELS)
def test_build_seeds_the_estimator_with_the_shared_random_state(model):
    estimator = MODELS[model].build({"n_estimators": 3}, random_state=5)
    assert estimator.get_params()["random_state"] == 5
    assert estimator.get_params()["n_estimators"] == 3


def test_an_estimator_without_random_state_is_built_without_one():
    spec = ModelSpec("k-NN", KNeighborsClassifier)
    assert spec.build({"n_neighbors": 3}, random_state=5).n_neighbors == 3
    assert "random_state" not in spec.parameter_names()


def test_display_names():
    assert [m.display_name for m in MODELS.values()] == ["Random Forest", "XGBoost"]
