from parallel_trees.models import MODELS
from parallel_trees.pipelines.scoring import create_pipeline


def test_the_joins_wait_for_every_model_then_build_the_runs_record():
    nodes = {n.name: n for n in create_pipeline().nodes}
    trainings = {f"{m}.training" for m in MODELS}
    assert set(nodes) == {
        "collect_predictions",
        "score_models",
        "compare_models",
        "compare_untuned",
        "build_metrics",
    }
    assert set(nodes["collect_predictions"].inputs) == {"y_test", "classes"} | {
        f"{m}.predictions" for m in MODELS
    }
    assert nodes["collect_predictions"].outputs == ["test_predictions"]
    assert set(nodes["score_models"].inputs) == {"test_predictions"} | trainings
    assert nodes["score_models"].outputs == ["scores"]
    assert set(nodes["compare_models"].inputs) == {
        "scores",
        "test_predictions",
        "cv_splits",
        "params:significance_level",
    }
    assert nodes["compare_models"].outputs == ["comparison", "ranking"]
    # The untuned verdict: the same test on every model's untuned scores, beside the tuned one.
    untuned_inputs = {"cv_splits", "params:significance_level", "comparison", "ranking"}
    assert set(nodes["compare_untuned"].inputs) == untuned_inputs | trainings
    assert nodes["compare_untuned"].outputs == ["untuned_comparison"]
    assert {
        "scores",
        "comparison",
        "ranking",
        "untuned_comparison",
        "params:tuning",
    } | trainings <= set(nodes["build_metrics"].inputs)
    assert nodes["build_metrics"].outputs == ["metrics"]
    assert all(n.tags == {"scoring"} for n in nodes.values())
