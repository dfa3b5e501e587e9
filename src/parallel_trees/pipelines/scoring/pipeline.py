"""Scoring: the joins that wait for every training branch and the baseline.

Predictions -> ``test_predictions`` and ``held_out``; scores -> ``scores``; paired tests
-> ``comparison`` and ``ranking``; the same tests on the untuned scores, when the run
tunes -> ``untuned_comparison``; all of it -> ``metrics`` (metrics.json).
"""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS
from parallel_trees.pipelines.training.nodes import BASELINE

from .nodes import (
    build_metrics,
    collect_predictions,
    compare_models,
    compare_untuned,
    score_models,
)

JUDGED = [*MODELS, BASELINE]  # every model, and the baseline each must beat


def create_pipeline(**kwargs) -> Pipeline:
    """Gather the models' results, compare them, and write the run's record."""
    trainings = {m: f"{m}.training" for m in JUDGED}
    return Pipeline(
        [
            node(
                collect_predictions,
                inputs={
                    "y_test": "y_test",
                    "classes": "classes",
                    **{m: f"{m}.predictions" for m in JUDGED},
                },
                outputs=["test_predictions", "held_out"],
                name="collect_predictions",
            ),
            node(
                score_models,
                inputs={
                    "held_out": "held_out",
                    "yardstick": "yardstick",
                    "classes": "classes",
                    **trainings,
                },
                outputs="scores",
                name="score_models",
            ),
            node(
                compare_models,
                inputs=[
                    "scores",
                    "held_out",
                    "yardstick",
                    "cv_splits",
                    "params:significance_level",
                    "params:random_state",
                ],
                outputs=["comparison", "ranking"],
                name="compare_models",
            ),
            node(
                compare_untuned,
                inputs={
                    "yardstick": "yardstick",
                    "cv_splits": "cv_splits",
                    "significance_level": "params:significance_level",
                    "random_state": "params:random_state",
                    "comparison": "comparison",
                    **trainings,
                },
                outputs="untuned_comparison",
                name="compare_untuned",
            ),
            node(
                build_metrics,
                inputs={
                    "y_train": "y_train",
                    "y_test": "y_test",
                    "classes": "classes",
                    "data_source": "data_source",
                    "feature_roles": "feature_roles",
                    "yardstick": "yardstick",
                    "dataset": "params:dataset",
                    "synthetic": "params:synthetic",
                    "random_state": "params:random_state",
                    "cv_folds": "params:cv_folds",
                    "cv_repeats": "params:cv_repeats",
                    "cv_shuffle": "params:cv_shuffle",
                    "test_size": "params:test_size",
                    "tuning": "params:tuning",
                    "scores": "scores",
                    "comparison": "comparison",
                    "ranking": "ranking",
                    "untuned_comparison": "untuned_comparison",
                    **trainings,
                },
                outputs="metrics",
                name="build_metrics",
            ),
        ],
        tags="scoring",
    )
