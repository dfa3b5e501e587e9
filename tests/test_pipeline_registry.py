import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project


@pytest.fixture(scope="module")
def registered(project_root):
    bootstrap_project(project_root)
    return dict(pipelines)


def test_every_pipeline_is_found_and_default_is_the_whole_flow(registered):
    names = ["data_preparation", "training", "scoring", "reporting"]
    assert set(registered) == {"__default__", *names}
    default = registered["__default__"]
    parts = sum((registered[name] for name in names[1:]), registered[names[0]])
    assert {n.name for n in default.nodes} == {n.name for n in parts.nodes}
    assert default.outputs() == {
        "model_comparison",
        "run_timeline",
        "confusion_matrix",
        "xgboost.portable_model",
    }
    assert {"metrics", "test_predictions", "random_forest.model"} <= default.all_outputs()
    # The runner's name is put into the catalog by RunnerHooks, raw_data is the
    # user's CSV; the rest are parameters.
    assert {i for i in default.inputs() if not i.startswith("params:")} == {"runner", "raw_data"}


def test_scoring_runs_after_both_training_nodes(registered):
    upstream = {n.name for n in registered["__default__"].to_nodes("summarize_models").nodes}
    assert {"random_forest.train_model", "xgboost.train_model"} <= upstream
