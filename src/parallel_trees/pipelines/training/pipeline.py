"""Training: one template, instantiated once per model under the model's namespace.

The branches share their inputs but not each other's outputs, so
``kedro run --runner=ParallelRunner`` trains them at the same time.
"""

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Pipeline, node

from parallel_trees.models import MODELS

from .nodes import evaluate_model, export_model, train_model

SHARED_INPUTS = {"X_train", "y_train", "X_test", "y_test", "cv_splits"}


class _Bound(partial):
    """A ``functools.partial`` that keeps its ``update_wrapper`` name in workers.

    multiprocessing pickles a plain ``partial`` as (func, args, keywords) only,
    so ParallelRunner workers would see a nameless node function; a subclass is
    pickled whole.
    """


def bind(func: Callable, **kwargs: Any) -> Callable:
    """``func`` with ``kwargs`` fixed, keeping its name, docstring and type hints."""
    return update_wrapper(_Bound(func, **kwargs), func)


def create_branch(model: str) -> Pipeline:
    """The training template for one model of ``MODELS``, in its namespace."""
    export = (
        [
            node(
                bind(export_model, model=model),
                inputs="model",
                outputs="portable_model",
                name="export_model",
                tags="training",
            )
        ]
        if MODELS[model].export
        else []
    )
    template = Pipeline(
        [
            *export,
            node(
                bind(train_model, model=model),
                inputs=[
                    "X_train",
                    "y_train",
                    "cv_splits",
                    "params:hyperparameters",
                    "params:random_state",
                ],
                outputs=["model", "cv_result"],
                name="train_model",
                tags="training",
            ),
            node(
                evaluate_model,
                inputs=["model", "cv_result", "X_test", "y_test"],
                outputs=["metrics", "predictions"],
                name="evaluate_model",
                tags="scoring",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=model,
        inputs=SHARED_INPUTS,
        outputs={"metrics": f"{model}_metrics", "predictions": f"{model}_predictions"},
        parameters={
            "params:hyperparameters": f"params:{model}",
            "random_state": "random_state",
        },
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One training branch per registered model."""
    return sum((create_branch(model) for model in MODELS), Pipeline([]))
