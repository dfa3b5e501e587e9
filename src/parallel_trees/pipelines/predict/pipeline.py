"""Predict: the model of a training run (the latest by default) applied to new rows
(no training).

kedro run --pipelines=predict --params "predict_csv=new.csv[,model=xgboost][,run=<version>]"
"""

from kedro.pipeline import Pipeline, node

from .nodes import predict_new_rows


def create_pipeline(**kwargs) -> Pipeline:
    """One node: ``new_rows`` and ``trained_model`` (catalog datasets) -> ``predictions``
    and ``prediction_record`` (which run and model made them, and what they met)."""
    return Pipeline(
        [
            node(
                predict_new_rows,
                ["new_rows", "trained_model"],
                ["predictions", "prediction_record"],
                name="predict",
            )
        ],
        tags="predict",
    )
