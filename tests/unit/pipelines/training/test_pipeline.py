import pickle
from multiprocessing.reduction import ForkingPickler

import pytest
import yaml
from kedro.io import DataCatalog

from parallel_trees.models import MODELS
from parallel_trees.pipelines.training import create_pipeline
from parallel_trees.pipelines.training.nodes import BASELINE
from parallel_trees.pipelines.training.pipeline import FOLD_NODES, create_branch
from parallel_trees.tags import FIT, LONG

FOLD_NODE_NAMES = [f"cross_validate_{n}_of_5" for n in range(1, FOLD_NODES + 1)]
FIT_NODES = [*FOLD_NODE_NAMES, "fit_model"]


@pytest.fixture(scope="module")
def pipeline():
    return create_pipeline()


def test_one_branch_per_registered_model_and_the_baseline(pipeline):
    assert {n.namespace for n in pipeline.nodes} == {*MODELS, BASELINE}
    assert {"random_forest", "xgboost"} <= set(MODELS)
    assert BASELINE not in MODELS  # a model of that name would share its datasets
    assert {n.name for n in pipeline.nodes} == {
        f"{m}.{step}"
        for m in MODELS
        for step in (*FIT_NODES, "record_training", "predict_test_rows", "explain_model")
    } | {f"{m}.export_model" for m, spec in MODELS.items() if spec.export} | {
        "baseline.evaluate_baseline"
    }
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
        "yardstick",
        "params:xgboost",
        "params:random_state",
        "params:tuning",
        "xgboost.model_name",  # made by the catalog from the namespace
    }
    # Every dataset a branch makes is in its namespace.
    assert branch.all_outputs() == {
        *(f"xgboost.folds_{n}" for n in range(1, FOLD_NODES + 1)),
        "xgboost.fit",
        "xgboost.model",
        "xgboost.portable_model",
        "xgboost.training",
        "xgboost.predictions",
        "xgboost.importance",
    }
    assert pipeline.outputs() - {f"{m}.portable_model" for m in MODELS} == {
        f"{m}.{kind}" for m in MODELS for kind in ("training", "predictions", "importance")
    } | {"baseline.training", "baseline.predictions"}


def test_the_baseline_reads_the_shared_split_and_folds_alone(pipeline):
    (baseline,) = [n for n in pipeline.nodes if n.namespace == BASELINE]
    assert set(baseline.inputs) == {
        "X_train",
        "y_train",
        "X_test",
        "cv_splits",
        "yardstick",
        "classes",
    }
    assert baseline.tags == {"training"}  # not fit, not long: it takes milliseconds


def test_each_model_has_six_fit_nodes_none_depending_on_another(pipeline):
    fitting = pipeline.only_nodes_with_tags(FIT)
    assert {n.name for n in fitting.nodes} == {f"{m}.{step}" for m in MODELS for step in FIT_NODES}
    assert FOLD_NODES == 5
    for node in fitting.nodes:
        upstream = pipeline.to_nodes(node.name)
        assert [n.name for n in upstream.nodes] == [node.name]  # nothing of the run before it


def test_record_training_joins_the_models_fit_nodes(pipeline):
    for model in MODELS:
        upstream = pipeline.to_nodes(f"{model}.record_training")
        assert {n.name for n in upstream.nodes} == {
            f"{model}.{step}" for step in (*FIT_NODES, "record_training")
        }


@pytest.mark.parametrize("step", ["predict_test_rows", "explain_model"])
def test_predictions_and_importance_wait_for_the_final_fit_only(pipeline, step):
    for model in MODELS:
        upstream = pipeline.to_nodes(f"{model}.{step}")
        assert {n.name for n in upstream.nodes} == {f"{model}.fit_model", f"{model}.{step}"}


def test_every_node_is_tagged_training_the_fit_nodes_fit_and_the_model_runs_long(pipeline):
    for node in pipeline.nodes:
        if node.namespace == BASELINE:
            continue
        step = node.name.split(".")[-1]
        fits = step in FIT_NODES
        expected = {"training", FIT, LONG} if fits else {"training"}
        assert node.tags == (expected | {LONG} if step == "explain_model" else expected)


def test_each_branch_is_told_its_model_by_the_catalog(project_root):
    catalog = DataCatalog.from_config(
        yaml.safe_load((project_root / "conf/base/catalog.yml").read_text())
    )
    for model in MODELS:
        assert catalog.load(f"{model}.model_name") == model


def test_nodes_survive_the_parallel_runners_pickling(pipeline):
    for node in pipeline.nodes:
        copy = pickle.loads(ForkingPickler.dumps(node))
        # the module's own function, found again by name; a FoldShare, with its share
        assert copy.func == node.func
        assert copy.name == node.name
