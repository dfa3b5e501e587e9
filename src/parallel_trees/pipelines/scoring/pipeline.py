"""Scoring: the join that waits for every training branch."""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import summarize_models


def create_pipeline(**kwargs) -> Pipeline:
    """Gather all models' metrics into ``metrics`` (versioned metrics.json)."""
    return Pipeline(
        [
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
            )
        ]
    )
