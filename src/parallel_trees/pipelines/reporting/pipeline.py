"""Reporting: the report printed at the end of a run, and its charts (kedro-viz shows them)."""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import (
    plot_confusion_matrices,
    plot_feature_importance,
    plot_hyperparameter_search,
    plot_model_comparison,
    plot_run_timeline,
    report_results,
)


def create_pipeline(**kwargs) -> Pipeline:
    """``report.txt`` and five charts, each a versioned dataset beside ``metrics.json``."""
    return Pipeline(
        [
            node(report_results, "metrics", "report", name="report_results"),
            node(
                plot_model_comparison,
                inputs=["scores", "comparison", "yardstick"],
                outputs="model_comparison",
                name="plot_model_comparison",
            ),
            node(
                plot_run_timeline,
                inputs={"run_context": "run_context", **{m: f"{m}.training" for m in MODELS}},
                outputs="run_timeline",
                name="plot_run_timeline",
            ),
            node(
                plot_confusion_matrices,
                inputs=["test_predictions", "classes", "scores"],
                outputs="confusion_matrix",
                name="plot_confusion_matrices",
            ),
            node(
                plot_feature_importance,
                inputs={"scores": "scores", **{m: f"{m}.importance" for m in MODELS}},
                outputs="feature_importance",
                name="plot_feature_importance",
            ),
            node(
                plot_hyperparameter_search,
                inputs={
                    "tuning": "params:tuning",
                    "yardstick": "yardstick",
                    **{m: f"{m}.training" for m in MODELS},
                },
                outputs="hyperparameter_search",
                name="plot_hyperparameter_search",
            ),
        ],
        tags="reporting",
    )
