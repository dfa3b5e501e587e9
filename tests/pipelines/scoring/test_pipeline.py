from parallel_trees.models import MODELS
from parallel_trees.pipelines.scoring import create_pipeline


def test_the_join_waits_for_every_model_and_writes_metrics():
    (join,) = create_pipeline().nodes
    assert join.name == "summarize_models"
    assert {f"{m}_metrics" for m in MODELS} <= set(join.inputs)
    assert join.outputs == ["metrics"]
