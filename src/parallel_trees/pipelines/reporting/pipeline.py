"""Reporting: the run's charts, drawn from ``metrics`` and ``test_predictions``."""

from kedro.pipeline import Pipeline, node

from .nodes import plot_confusion_matrices, plot_model_comparison, plot_run_timeline


def create_pipeline(**kwargs) -> Pipeline:
    """Three charts, each a versioned plotly dataset beside ``metrics.json``.

    ``runner`` is not a file: the ``RunnerHooks`` hook puts the name of the
    runner of the current ``kedro run`` into the catalog before any node runs.
    """
    return Pipeline(
        [
            node(
                plot_model_comparison,
                inputs="metrics",
                outputs="model_comparison",
                name="plot_model_comparison",
            ),
            node(
                plot_run_timeline,
                inputs=["metrics", "runner"],
                outputs="run_timeline",
                name="plot_run_timeline",
            ),
            node(
                plot_confusion_matrices,
                inputs=["test_predictions", "metrics"],
                outputs="confusion_matrix",
                name="plot_confusion_matrices",
            ),
        ],
        tags="reporting",
    )
