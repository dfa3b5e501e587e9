import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project


@pytest.fixture(scope="module")
def registered(project_root):
    bootstrap_project(project_root)
    return dict(pipelines)


def test_every_pipeline_is_found_and_default_is_the_whole_training_flow(registered):
    names = ["data_preparation", "training", "scoring", "reporting"]
    assert set(registered) == {"__default__", "predict", *names}
    default = registered["__default__"]
    parts = sum((registered[name] for name in names[1:]), registered[names[0]])
    assert {n.name for n in default.nodes} == {n.name for n in parts.nodes}
    assert default.outputs() == {
        "model_comparison",
        "run_timeline",
        "confusion_matrix",
        "feature_importance",
        "hyperparameter_search",
        "report",
        "xgboost.portable_model",
        "input_example",  # logged beside each model when the run tracks (hooks/tracking.py)
    }
    assert {"metrics", "test_predictions", "random_forest.model"} <= default.all_outputs()
    # run_context is put into the catalog by RunContextHooks, raw_data is the
    # user's CSV, each model_name is made by the catalog; the rest are parameters.
    assert {i for i in default.inputs() if not i.startswith("params:")} == {
        "run_context",
        "raw_data",
        "random_forest.model_name",
        "xgboost.model_name",
    }


def test_predict_reads_new_rows_and_a_trained_model_and_trains_nothing(registered):
    predict = registered["predict"]
    assert predict.inputs() == {"new_rows", "trained_model"}
    assert predict.outputs() == {"predictions", "prediction_record"}
    assert not {n.name for n in predict.nodes} & {n.name for n in registered["__default__"].nodes}


def test_every_node_is_tagged_with_its_pipelines_name(registered):
    for name, pipeline in registered.items():
        if name != "__default__":
            # and with no other pipeline's: a training node that fits a model is also "fit"
            assert {tag for n in pipeline.nodes for tag in n.tags} & set(registered) == {name}
            assert all(name in n.tags for n in pipeline.nodes)


def test_scoring_runs_after_every_training_node(registered):
    upstream = {n.name for n in registered["__default__"].to_nodes("build_metrics").nodes}
    fitting = {n.name for n in registered["training"].only_nodes_with_tags("fit").nodes}
    assert len(fitting) == 12  # 6 per model
    assert fitting | {"random_forest.record_training", "xgboost.record_training"} <= upstream
