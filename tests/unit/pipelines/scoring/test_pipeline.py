from parallel_trees.models import MODELS
from parallel_trees.pipelines.scoring import create_pipeline
from parallel_trees.pipelines.training.nodes import BASELINE


def test_the_joins_wait_for_every_model_and_the_baseline_then_build_the_runs_record():
    nodes = {n.name: n for n in create_pipeline().nodes}
    judged = [*MODELS, BASELINE]
    trainings = {f"{m}.training" for m in judged}
    assert set(nodes) == {
        "collect_predictions",
        "score_models",
        "compare_models",
        "compare_untuned",
        "build_metrics",
    }
    assert set(nodes["collect_predictions"].inputs) == {"y_test", "classes"} | {
        f"{m}.predictions" for m in judged
    }
    assert nodes["collect_predictions"].outputs == ["test_predictions", "held_out"]
    assert set(nodes["score_models"].inputs) == {"held_out", "yardstick", "classes"} | trainings
    assert nodes["score_models"].outputs == ["scores"]
    assert set(nodes["compare_models"].inputs) == {
        "scores",
        "held_out",
        "yardstick",
        "cv_splits",
        "params:significance_level",
        "params:random_state",
    }
    assert nodes["compare_models"].outputs == ["comparison", "ranking"]
    # The untuned verdict: the same tests on every model's untuned scores, beside the tuned.
    untuned_inputs = {
        "yardstick",
        "cv_splits",
        "params:significance_level",
        "params:random_state",
        "comparison",
    }
    assert set(nodes["compare_untuned"].inputs) == untuned_inputs | trainings
    assert nodes["compare_untuned"].outputs == ["untuned_comparison"]
    assert {
        "scores",
        "comparison",
        "ranking",
        "untuned_comparison",
        "yardstick",
        "params:tuning",
        "params:cv_repeats",
    } | trainings <= set(nodes["build_metrics"].inputs)
    assert nodes["build_metrics"].outputs == ["metrics"]
    assert all(n.tags == {"scoring"} for n in nodes.values())
