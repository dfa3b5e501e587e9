"""Data preparation: dataset -> column roles -> stratified train/test split -> shared CV folds."""

from kedro.pipeline import Pipeline, node

from .nodes import (
    infer_column_roles,
    load_dataset,
    make_cv_splits,
    split_data,
    take_input_example,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Load the chosen dataset, split it, and fix the folds all models share."""
    return Pipeline(
        [
            node(
                load_dataset,
                inputs=[
                    "params:dataset",
                    "params:synthetic",
                    "params:random_state",
                    "params:target_column",
                    "raw_data",
                ],
                outputs=["features", "target", "classes", "data_source"],
                name="load_dataset",
            ),
            node(
                infer_column_roles,
                inputs=["features", "params:column_roles", "data_source"],
                outputs="feature_roles",
                name="infer_column_roles",
            ),
            node(
                split_data,
                inputs=[
                    "features",
                    "target",
                    "params:test_size",
                    "params:random_state",
                ],
                outputs=["X_train", "X_test", "y_train", "y_test"],
                name="split_data",
            ),
            node(take_input_example, "X_train", "input_example", name="take_input_example"),
            node(
                make_cv_splits,
                inputs=[
                    "y_train",
                    "classes",
                    "params:cv_folds",
                    "params:cv_shuffle",
                    "params:random_state",
                ],
                outputs="cv_splits",
                name="make_cv_splits",
            ),
        ],
        namespace="data_preparation",
        inputs={"raw_data"},
        outputs={
            "X_train",
            "X_test",
            "y_train",
            "y_test",
            "cv_splits",
            "classes",
            "feature_roles",
            "data_source",
            "input_example",
        },
        parameters={
            "dataset",
            "target_column",
            "column_roles",
            "synthetic",
            "random_state",
            "test_size",
            "cv_folds",
            "cv_shuffle",
        },
        tags="data_preparation",
    )
