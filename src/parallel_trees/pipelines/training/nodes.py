"""Train one model: cross-validate on the shared folds, fit, score on held-out rows."""

import os
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_score

from parallel_trees.errors import TrainingError
from parallel_trees.models import MODELS


def train_model(
    x_train: pd.DataFrame,
    y_train: pd.Series,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    hyperparameters: dict[str, Any],
    random_state: int,
    model: str,
) -> tuple[BaseEstimator, dict[str, Any]]:
    """Cross-validate a model on the shared folds, then fit it on all training rows.

    Args:
        x_train: Training features.
        y_train: Training labels.
        cv_splits: The folds every model shares.
        hyperparameters: The model's section of the parameters.
        random_state: Seed of the estimator (unless the section sets one).
        model: Key of the model in ``MODELS``; bound per branch by the pipeline.

    Returns:
        The fitted estimator, and a record of its CV scores, its
        hyperparameters and when and where (process id) it trained.

    Raises:
        TrainingError: If the estimator rejects its parameters (or the data);
            the message names the model and the parameter.
    """
    started_at = time.time()
    spec = MODELS[model]
    arguments = spec.arguments(hyperparameters, random_state)
    estimator = spec.estimator(**arguments)
    try:
        # n_jobs=1: a process pool nested in a ParallelRunner worker (joblib's
        # loky) keeps the run waiting at shutdown for loky's 300 s idle timeout;
        # the parallelism here is across models, one node per model.
        # error_score="raise": a fold that fails stops the run with the
        # estimator's own message, instead of a NaN score averaged into the result.
        scores = cross_val_score(
            estimator, x_train, y_train, cv=cv_splits, n_jobs=1, error_score="raise"
        )
        fitted = clone(estimator).fit(x_train, y_train)
    except (ValueError, TypeError) as error:  # sklearn's and XGBoost's parameter errors
        raise _training_error(model, hyperparameters, error) from error
    record = {
        "display_name": spec.display_name,
        "estimator": spec.estimator.__name__,
        "hyperparameters": arguments,
        "cv_scores": scores.tolist(),
        "training": {
            "pid": os.getpid(),
            "started_at": started_at,
            "finished_at": time.time(),
        },
    }
    return fitted, record


def _training_error(model: str, hyperparameters: dict[str, Any], error: Exception) -> TrainingError:
    message = str(error).strip().splitlines()[0].rstrip(".")
    # sklearn names the function that checked the parameter, not the estimator.
    message = message.replace("of cross_val_score", f"of {MODELS[model].estimator.__name__}")
    named = [key for key in hyperparameters if key in message]
    hint = (
        "; ".join(f"{model}.{key} = {hyperparameters[key]!r}" for key in named)
        + " is set in conf/base/parameters.yml (or --params): change it."
        if named
        else f"Check the {model} section of the parameters."
    )
    return TrainingError(
        f"{MODELS[model].display_name} ({model}) could not be trained: {message}. {hint}"
    )


def export_model(estimator: BaseEstimator, model: str) -> dict[str, Any]:
    """The fitted model in its library's portable format (``MODELS[model].export``).

    Args:
        estimator: The fitted estimator.
        model: Key of the model in ``MODELS``; bound per branch by the pipeline.

    Returns:
        A JSON-able document that loads without pickle.
    """
    return MODELS[model].export(estimator)


def evaluate_model(
    model: BaseEstimator,
    cv_result: dict[str, Any],
    x_test: pd.DataFrame,
    y_test: pd.Series,
) -> tuple[dict[str, Any], pd.Series]:
    """Summarise the CV scores and score the fitted model on the held-out rows.

    Args:
        model: The fitted estimator.
        cv_result: The record ``train_model`` made.
        x_test: Held-out features (may have no rows).
        y_test: Held-out labels.

    Returns:
        ``cv_result`` plus ``cv_mean``, ``cv_std`` (population std, as the
        tutorial) and ``test_accuracy`` (``None`` when nothing was held out);
        and the model's prediction for each held-out row, indexed as ``y_test``.
    """
    scores = np.asarray(cv_result["cv_scores"])
    predictions = pd.Series(
        model.predict(x_test) if len(x_test) else [],
        index=y_test.index,
        name="prediction",
        dtype=y_test.dtype,
    )
    test_accuracy = float(accuracy_score(y_test, predictions)) if len(y_test) else None
    metrics = {
        **cv_result,
        "cv_mean": float(scores.mean()),
        "cv_std": float(scores.std()),
        "test_accuracy": test_accuracy,
    }
    return metrics, predictions
