"""Training: one template, instantiated once per model under the model's namespace.

The branches share their inputs but not each other's outputs, so
``kedro run --runner=ParallelRunner`` trains them at the same time.
"""

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import explain_model, export_model, predict_test_rows, train_model

SHARED_INPUTS = {
    "X_train",
    "y_train",
    "X_test",
    "y_test",
    "cv_splits",
    "feature_roles",
    "run_context",
}


def create_branch(model_name: str) -> Pipeline:
    """The training template for one model of ``MODELS``, in its namespace.

    Its datasets are the namespace's: ``<model_name>.model`` (the fitted
    model), ``.training`` (its training record), ``.predictions`` (of the
    held-out rows), ``.importance`` (of each column), ``.portable_model``,
    and ``.model_name``, which the catalog makes from the namespace
    (conf/base/catalog.yml).
    """
    export = (
        [node(export_model, ["model", "model_name"], "portable_model", name="export_model")]
        if MODELS[model_name].export
        else []
    )
    template = Pipeline(
        [
            node(
                train_model,
                inputs=[
                    "X_train",
                    "y_train",
                    "cv_splits",
                    "feature_roles",
                    "params:hyperparameters",
                    "params:random_state",
                    "run_context",
                    "model_name",
                ],
                outputs=["model", "training"],
                name="train_model",
            ),
            node(predict_test_rows, ["model", "X_test"], "predictions", name="predict_test_rows"),
            node(
                explain_model,
                inputs=[
                    "model",
                    "X_test",
                    "y_test",
                    "X_train",
                    "y_train",
                    "feature_roles",
                    "params:random_state",
                ],
                outputs="importance",
                name="explain_model",
            ),
            *export,
        ],
        tags="training",
    )
    return Pipeline(
        template,
        namespace=model_name,
        inputs=SHARED_INPUTS,
        parameters={
            "params:hyperparameters": f"params:{model_name}",
            "random_state": "random_state",
        },
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One training branch per registered model."""
    return sum((create_branch(model_name) for model_name in MODELS), Pipeline([]))
