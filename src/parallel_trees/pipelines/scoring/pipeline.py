"""Scoring: the joins that wait for every training branch: predictions, paired tests, report."""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import collect_predictions, compare_models, summarize_models


def create_pipeline(**kwargs) -> Pipeline:
    """Gather predictions into ``test_predictions``, compare the models, write ``metrics``."""
    return Pipeline(
        [
            node(
                collect_predictions,
                inputs={
                    "y_test": "y_test",
                    "classes": "classes",
                    **{m: f"{m}_predictions" for m in MODELS},
                },
                outputs="test_predictions",
                name="collect_predictions",
                tags="reporting",
            ),
            node(
                compare_models,
                inputs={
                    "test_predictions": "test_predictions",
                    "cv_splits": "cv_splits",
                    "significance_level": "params:significance_level",
                    **{m: f"{m}_metrics" for m in MODELS},
                },
                outputs="comparison",
                name="compare_models",
                tags="reporting",
            ),
            node(
                summarize_models,
                inputs={
                    "y_train": "y_train",
                    "y_test": "y_test",
                    "classes": "classes",
                    "dataset": "params:dataset",
                    "synthetic": "params:synthetic",
                    "random_state": "params:random_state",
                    "cv_folds": "params:cv_folds",
                    "cv_shuffle": "params:cv_shuffle",
                    "test_size": "params:test_size",
                    "comparison": "comparison",
                    **{model: f"{model}_metrics" for model in MODELS},
                },
                outputs="metrics",
                name="summarize_models",
                tags="reporting",
            ),
        ]
    )
