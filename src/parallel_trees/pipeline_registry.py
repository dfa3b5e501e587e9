"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from parallel_trees.collector import imports_uncollected

PREDICT = "predict"


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under ``pipelines/``; ``__default__`` trains and reports.

    ``predict`` applies a trained model to new rows; it is not part of a
    training run: ``kedro run --pipeline=predict``.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    with imports_uncollected():  # the nodes' modules
        pipelines = find_pipelines(raise_errors=True)
    training = [p for name, p in pipelines.items() if name != PREDICT]
    pipelines["__default__"] = sum(training, Pipeline([]))
    return pipelines
