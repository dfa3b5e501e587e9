import pickle
from multiprocessing.reduction import ForkingPickler

import pytest

from parallel_trees.models import MODELS
from parallel_trees.pipelines.training import create_pipeline
from parallel_trees.pipelines.training.pipeline import create_branch


@pytest.fixture(scope="module")
def pipeline():
    return create_pipeline()


def test_one_branch_per_registered_model(pipeline):
    assert {n.namespace for n in pipeline.nodes} == set(MODELS)
    assert {"random_forest", "xgboost"} <= set(MODELS)
    assert {n.name for n in pipeline.nodes} == {
        f"{m}.{step}" for m in MODELS for step in ("train_model", "evaluate_model")
    } | {f"{m}.export_model" for m, spec in MODELS.items() if spec.export}
    assert "xgboost.export_model" in {n.name for n in pipeline.nodes}
    assert "random_forest.export_model" not in {n.name for n in pipeline.nodes}


def test_branches_share_inputs_and_read_their_own_section(pipeline):
    branch = create_branch("xgboost")
    assert branch.inputs() == {
        "X_train",
        "y_train",
        "X_test",
        "y_test",
        "cv_splits",
        "params:xgboost",
        "params:random_state",
    }
    assert branch.all_outputs() == {
        "xgboost.model",
        "xgboost.portable_model",
        "xgboost.cv_result",
        "xgboost_metrics",
        "xgboost_predictions",
    }
    assert pipeline.outputs() - {f"{m}.portable_model" for m in MODELS} == {
        f"{m}_{kind}" for m in MODELS for kind in ("metrics", "predictions")
    }


def test_training_nodes_do_not_depend_on_each_other(pipeline):
    for model in MODELS:
        upstream = pipeline.to_nodes(f"{model}.train_model")
        assert {n.namespace for n in upstream.nodes} == {model}
        assert [n.name for n in upstream.nodes] == [f"{model}.train_model"]


def test_training_nodes_are_template_instances(pipeline):
    train = {n.namespace: n for n in pipeline.nodes if n.name.endswith("train_model")}
    functions = {n.func.func for n in train.values()}
    assert len(functions) == 1  # one function, bound to each model
    assert {n.func.keywords["model"] for n in train.values()} == set(MODELS)


def test_nodes_survive_the_parallel_runners_pickling_with_their_name(pipeline):
    for node in pipeline.nodes:
        copy = pickle.loads(ForkingPickler.dumps(node))
        assert copy.func.__name__ in {"train_model", "evaluate_model", "export_model"}
        assert copy.name == node.name
