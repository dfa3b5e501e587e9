"""Training: one template, instantiated once per model under the model's namespace.

Each model's work is spread over nodes that share their inputs but not each
other's outputs: ``FOLD_NODES`` nodes that score it on the outer folds (and
search its hyperparameters inside each, when the run tunes), and one that fits
it on all training rows. Every model's nodes are independent, so
``kedro run --runner=ParallelRunner`` (or the DaskRunner) keeps every core busy
until the end, whichever model is slower.
"""

from dataclasses import dataclass
from typing import Any

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS
from parallel_trees.tags import FIT, LONG

from .nodes import (
    BASELINE,
    evaluate_baseline,
    evaluate_folds,
    explain_model,
    export_model,
    fit_model,
    predict_test_rows,
    record_training,
    share_name,
)

# Nodes that share each model's outer folds: fold k is scored by node k % FOLD_NODES,
# cross_validate_<k % FOLD_NODES + 1>_of_5. Kedro builds its pipelines before it reads the
# parameters, so this cannot follow cv_folds; 5 is cv_folds' default, one fold per node
# (with cv_folds: 3, cross_validate_4_of_5 and 5_of_5 have no fold to score).
FOLD_NODES = 5
# The nodes that fit models are tagged FIT (the run's context gives each its share of the
# cores); they and explain_model (permutation importance) are also LONG (parallel_trees.tags).
MODEL_INPUTS = [
    "yardstick",
    "feature_roles",
    "params:hyperparameters",
    "params:tuning",
    "params:random_state",
    "run_context",
    "model_name",
]

SHARED_INPUTS = {
    "X_train",
    "y_train",
    "X_test",
    "y_test",
    "cv_splits",
    "feature_roles",
    "run_context",
    "yardstick",
}


@dataclass(frozen=True)
class FoldShare:
    """``evaluate_folds`` for one share of the outer folds, as a node function.

    Not a ``functools.partial``: multiprocessing pickles a partial without its
    name, and Kedro then logs the node as ``<partial>`` with a warning.
    """

    part: int
    __name__ = evaluate_folds.__name__

    def __call__(self, *inputs: Any) -> dict[str, Any]:
        """``evaluate_folds(*inputs)`` on folds ``part``, ``part + FOLD_NODES``..."""
        return evaluate_folds(*inputs, part=self.part, parts=FOLD_NODES)


def create_branch(model_name: str) -> Pipeline:
    """The training template for one model of ``MODELS``, in its namespace.

    Its datasets are the namespace's: ``<model_name>.folds_<n>`` (the outer
    folds' scores and searches), ``.model`` (the fitted model) and ``.fit``
    (how it was fitted), ``.training`` (its training record: both, joined),
    ``.predictions`` (of the held-out rows), ``.importance`` (of each column),
    ``.portable_model``, and ``.model_name``, which the catalog makes from the
    namespace (conf/base/catalog.yml).
    """
    export = (
        [node(export_model, ["model", "model_name"], "portable_model", name="export_model")]
        if MODELS[model_name].export
        else []
    )
    template = Pipeline(
        [
            *(
                node(
                    FoldShare(part),
                    inputs=["X_train", "y_train", "cv_splits", *MODEL_INPUTS],
                    outputs=f"folds_{part + 1}",
                    name=share_name(part, FOLD_NODES),
                    tags=[FIT, LONG],
                )
                for part in range(FOLD_NODES)
            ),
            node(
                fit_model,
                inputs=["X_train", "y_train", *MODEL_INPUTS],
                outputs=["model", "fit"],
                name="fit_model",
                tags=[FIT, LONG],
            ),
            node(
                record_training,
                inputs=["model_name", "fit", *(f"folds_{part + 1}" for part in range(FOLD_NODES))],
                outputs="training",
                name="record_training",
            ),
            node(
                predict_test_rows,
                ["model", "X_test", "yardstick"],
                "predictions",
                name="predict_test_rows",
            ),
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
                    "yardstick",
                ],
                outputs="importance",
                name="explain_model",
                tags=LONG,
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
            "tuning": "tuning",
        },
    )


def create_baseline() -> Pipeline:
    """The baseline, beside the models: its record and its held-out predictions, as a
    branch's (``baseline.training``, ``baseline.predictions``), in one quick node."""
    return Pipeline(
        [
            node(
                evaluate_baseline,
                inputs=["X_train", "y_train", "X_test", "cv_splits", "yardstick", "classes"],
                outputs=["training", "predictions"],
                name="evaluate_baseline",
            )
        ],
        namespace=BASELINE,
        inputs={"X_train", "y_train", "X_test", "cv_splits", "yardstick", "classes"},
        tags="training",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One training branch per registered model, and the baseline."""
    branches = sum((create_branch(model_name) for model_name in MODELS), Pipeline([]))
    return branches + create_baseline()
