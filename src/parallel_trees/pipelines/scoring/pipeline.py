"""Scoring: the join that waits for every training branch."""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import collect_predictions, summarize_models


def create_pipeline(**kwargs) -> Pipeline:
    """Gather all models' metrics into ``metrics`` and predictions into ``test_predictions``."""
    return Pipeline(
        [
            node(
                collect_predictions,
                inputs={"y_test": "y_test", **{m: f"{m}_predictions" for m in MODELS}},
                outputs="test_predictions",
                name="collect_predictions",
                tags="reporting",
            ),
            node(
                summarize_models,
                inputs={
                    "y_train": "y_train",
                    "y_test": "y_test",
                    "dataset": "params:dataset",
                    "synthetic": "params:synthetic",
                    "random_state": "params:random_state",
                    "cv_folds": "params:cv_folds",
                    "cv_shuffle": "params:cv_shuffle",
                    "test_size": "params:test_size",
                    **{model: f"{model}_metrics" for model in MODELS},
                },
                outputs="metrics",
                name="summarize_models",
                tags="reporting",
            ),
        ]
    )
