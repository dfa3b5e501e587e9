"""Train one model: cross-validate on the shared folds, fit, predict the held-out rows."""

import logging
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import cross_val_score

from parallel_trees.errors import TrainingError
from parallel_trees.models import MODELS

logger = logging.getLogger(__name__)


def train_model(
    x_train: pd.DataFrame,
    y_train: pd.Series,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    hyperparameters: dict[str, Any],
    random_state: int,
    run_context: dict[str, Any],
    model_name: str,
) -> tuple[BaseEstimator, dict[str, Any]]:
    """Cross-validate a model on the shared folds, then fit it on all training rows.

    Args:
        x_train: Training features.
        y_train: Training labels.
        cv_splits: The folds every model shares.
        hyperparameters: The model's section of the parameters.
        random_state: Seed of the estimator (unless the section sets one).
        run_context: The run's context; ``n_jobs: auto`` becomes its
            ``threads_per_model``.
        model_name: The model's key in ``MODELS`` (its branch's namespace).

    Returns:
        The fitted model, and its training record: its names, the arguments
        it was built with, its CV score on each fold, and when and in which
        process it trained.

    Raises:
        TrainingError: If the estimator rejects its parameters (or the data);
            the message names the model and the parameter.
    """
    started_at = time.time()
    spec = MODELS[model_name]
    arguments = spec.arguments(hyperparameters, random_state, run_context["threads_per_model"])
    estimator = spec.estimator(**arguments)
    logger.info(
        "Training %s: %d-fold CV, then a fit on all training rows",
        spec.display_name,
        len(cv_splits),
    )
    try:
        # n_jobs=1: a process pool nested in a ParallelRunner worker (joblib's
        # loky) keeps the run waiting at shutdown for loky's 300 s idle timeout;
        # the parallelism here is across models, one node per model.
        # error_score="raise": a fold that fails stops the run with the
        # estimator's own message, instead of a NaN score averaged into the result.
        scores = cross_val_score(
            estimator, x_train, y_train, cv=cv_splits, n_jobs=1, error_score="raise"
        )
        model = clone(estimator).fit(x_train, y_train)
    except (ValueError, TypeError) as error:  # sklearn's and XGBoost's parameter errors
        raise _training_error(model_name, hyperparameters, error) from error
    logger.info("Trained %s in %.1f s", spec.display_name, time.time() - started_at)
    training = {
        "display_name": spec.display_name,
        "estimator": spec.estimator.__name__,
        "hyperparameters": arguments,
        "cv_scores": scores.tolist(),
        "timing": {"pid": os.getpid(), "started_at": started_at, "finished_at": time.time()},
    }
    return model, training


def _training_error(model: str, hyperparameters: dict[str, Any], error: Exception) -> TrainingError:
    message = str(error).strip().splitlines()[0].rstrip(".")
    # sklearn names the function that checked the parameter, not the estimator.
    message = message.replace("of cross_val_score", f"of {MODELS[model].estimator.__name__}")
    named = [key for key in hyperparameters if key in message]
    hint = (
        "Change " + "; ".join(f"{model}.{key} = {hyperparameters[key]!r}" for key in named) + "."
        if named
        else f"Check the {model} section of the parameters."
    )
    return TrainingError(
        f"{MODELS[model].display_name} ({model}) could not be trained: {message}. {hint}",
        settings=[f"{model}.{key}" for key in named],
    )


def export_model(model: BaseEstimator, model_name: str) -> dict[str, Any]:
    """The fitted model in its library's portable format (``MODELS[model_name].export``).

    Args:
        model: The fitted model.
        model_name: The model's key in ``MODELS``.

    Returns:
        A JSON-able document that loads without pickle.
    """
    return MODELS[model_name].export(model)


def predict_test_rows(model: BaseEstimator, x_test: pd.DataFrame) -> pd.Series:
    """The model's prediction for each held-out row.

    Args:
        model: The fitted model.
        x_test: Held-out features (may have no rows: ``test_size: 0``).

    Returns:
        The predicted class codes, indexed as ``x_test``.
    """
    predicted = model.predict(x_test) if len(x_test) else np.array([], dtype=int)
    return pd.Series(predicted, index=x_test.index, name="prediction", dtype=int)
