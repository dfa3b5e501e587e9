from parallel_trees.models import MODELS
from parallel_trees.pipelines.scoring import create_pipeline


def test_the_joins_wait_for_every_model():
    nodes = {n.name: n for n in create_pipeline().nodes}
    assert set(nodes) == {"summarize_models", "collect_predictions", "compare_models"}
    assert {f"{m}_metrics" for m in MODELS} <= set(nodes["summarize_models"].inputs)
    assert nodes["summarize_models"].outputs == ["metrics"]
    assert set(nodes["collect_predictions"].inputs) == {"y_test", "classes"} | {
        f"{m}_predictions" for m in MODELS
    }
    assert nodes["collect_predictions"].outputs == ["test_predictions"]
    assert set(nodes["compare_models"].inputs) == {
        "test_predictions",
        "cv_splits",
        "params:significance_level",
    } | {f"{m}_metrics" for m in MODELS}
    assert "comparison" in nodes["summarize_models"].inputs
