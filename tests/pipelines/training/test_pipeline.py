import pickle
from multiprocessing.reduction import ForkingPickler

import pytest
import yaml
from kedro.io import DataCatalog

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
        f"{m}.{step}"
        for m in MODELS
        for step in ("train_model", "predict_test_rows", "explain_model")
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
        "feature_roles",
        "run_context",
        "params:xgboost",
        "params:random_state",
        "xgboost.model_name",  # made by the catalog from the namespace
    }
    # Every dataset a branch makes is in its namespace.
    assert branch.all_outputs() == {
        "xgboost.model",
        "xgboost.portable_model",
        "xgboost.training",
        "xgboost.predictions",
        "xgboost.importance",
    }
    assert pipeline.outputs() - {f"{m}.portable_model" for m in MODELS} == {
        f"{m}.{kind}" for m in MODELS for kind in ("training", "predictions", "importance")
    }


def test_training_nodes_do_not_depend_on_each_other(pipeline):
    for model in MODELS:
        upstream = pipeline.to_nodes(f"{model}.train_model")
        assert {n.namespace for n in upstream.nodes} == {model}
        assert [n.name for n in upstream.nodes] == [f"{model}.train_model"]


def test_every_node_is_tagged_training(pipeline):
    assert all(n.tags == {"training"} for n in pipeline.nodes)


def test_each_branch_is_told_its_model_by_the_catalog(project_root):
    catalog = DataCatalog.from_config(
        yaml.safe_load((project_root / "conf/base/catalog.yml").read_text())
    )
    for model in MODELS:
        assert catalog.load(f"{model}.model_name") == model


def test_nodes_survive_the_parallel_runners_pickling(pipeline):
    for node in pipeline.nodes:
        copy = pickle.loads(ForkingPickler.dumps(node))
        assert copy.func is node.func  # the module's own function, found again by name
        assert copy.name == node.name
