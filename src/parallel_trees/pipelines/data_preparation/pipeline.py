"""Data preparation: dataset (and the task: classes or numbers) -> train/test split ->
column roles (from the training rows) -> the shared CV folds, and the yardstick every
model is judged by."""

from kedro.pipeline import Pipeline, node

from .nodes import (
    choose_yardstick,
    infer_column_roles,
    load_dataset,
    make_cv_splits,
    split_data,
    take_input_example,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Load the chosen dataset, split it, and fix the folds and the metric all models share."""
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
                    "params:task",
                ],
                outputs=["features", "target", "classes", "data_source", "task"],
                name="load_dataset",
            ),
            node(
                split_data,
                inputs=[
                    "features",
                    "target",
                    "params:test_size",
                    "params:random_state",
                    "task",
                ],
                outputs=["X_train", "X_test", "y_train", "y_test"],
                name="split_data",
            ),
            node(
                infer_column_roles,
                inputs=["X_train", "X_test", "params:column_roles", "data_source", "classes"],
                outputs="feature_roles",
                name="infer_column_roles",
            ),
            node(
                take_input_example,
                ["X_train", "feature_roles"],
                "input_example",
                name="take_input_example",
            ),
            node(
                make_cv_splits,
                inputs=[
                    "y_train",
                    "classes",
                    "params:cv_folds",
                    "params:cv_shuffle",
                    "params:random_state",
                    "params:cv_repeats",
                    "task",
                ],
                outputs="cv_splits",
                name="make_cv_splits",
            ),
            node(
                choose_yardstick,
                inputs=["params:metric", "params:positive_class", "classes", "y_train", "task"],
                outputs="yardstick",
                name="choose_yardstick",
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
            "yardstick",
        },
        parameters={
            "dataset",
            "target_column",
            "task",
            "column_roles",
            "synthetic",
            "random_state",
            "test_size",
            "cv_folds",
            "cv_shuffle",
            "cv_repeats",
            "metric",
            "positive_class",
        },
        tags="data_preparation",
    )
