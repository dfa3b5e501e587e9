import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project


@pytest.fixture(scope="module")
def registered(project_root):
    bootstrap_project(project_root)
    return dict(pipelines)


def test_every_pipeline_is_found_and_default_is_the_whole_flow(registered):
    assert set(registered) == {"__default__", "data_preparation", "training", "scoring"}
    default = registered["__default__"]
    parts = registered["data_preparation"] + registered["training"] + registered["scoring"]
    assert {n.name for n in default.nodes} == {n.name for n in parts.nodes}
    assert default.outputs() == {"metrics", "xgboost.portable_model"}
    assert "test_predictions" in default.all_outputs()
    assert {"random_forest.model", "xgboost.model"} <= default.all_outputs()
    assert {i for i in default.inputs() if not i.startswith("params:")} == {"raw_data"}


def test_scoring_runs_after_both_training_nodes(registered):
    upstream = {n.name for n in registered["__default__"].to_nodes("summarize_models").nodes}
    assert {"random_forest.train_model", "xgboost.train_model"} <= upstream
