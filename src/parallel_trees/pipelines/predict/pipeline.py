"""Predict: the model of the latest training run applied to new rows (no training).

kedro run --pipeline=predict --params "predict_csv=path/to/new.csv[,model=random_forest]"
"""

from kedro.pipeline import Pipeline, node

from .nodes import predict_new_rows


def create_pipeline(**kwargs) -> Pipeline:
    """One node: ``new_rows`` and ``trained_model`` (catalog datasets) -> ``predictions``."""
    return Pipeline(
        [node(predict_new_rows, ["new_rows", "trained_model"], "predictions", name="predict")],
        tags="predict",
    )
