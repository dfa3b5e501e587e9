"""Load a dataset, split it into train and held-out test parts, and fix the CV folds."""

import math

import numpy as np
import pandas as pd
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

BUILT_IN = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}


def load_dataset(
    dataset: str, synthetic: dict[str, int], random_state: int
) -> tuple[pd.DataFrame, pd.Series]:
    """Load a dataset shipped with scikit-learn, or make a synthetic one.

    Args:
        dataset: ``iris``, ``wine``, ``breast_cancer`` or ``synthetic``.
        synthetic: ``n_samples``, ``n_features``, ``n_informative`` and
            ``n_classes`` of the synthetic dataset.
        random_state: Seed of the synthetic dataset.

    Returns:
        The features and the integer class labels (named ``target``).
    """
    if dataset == "synthetic":
        features, target = make_classification(
            **synthetic,
            n_redundant=0,
            n_clusters_per_class=1,
            random_state=random_state,
        )
        columns = [f"x{i}" for i in range(features.shape[1])]
        return pd.DataFrame(features, columns=columns), pd.Series(target, name="target")
    if dataset not in BUILT_IN:
        allowed = ", ".join([*BUILT_IN, "synthetic"])
        raise ValueError(f"dataset: unknown '{dataset}'; allowed: {allowed}")
    bunch = BUILT_IN[dataset](as_frame=True)
    return bunch.data, bunch.target.rename("target")


def split_data(
    features: pd.DataFrame, target: pd.Series, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split rows, stratified by class, into train and held-out test parts.

    Args:
        features: One row per example.
        target: The class of each row.
        test_size: Fraction of rows held out; 0 keeps every row for training
            (the tutorial's setup) and leaves the test part empty.
        random_state: Seed of the shuffle.

    Returns:
        ``X_train``, ``X_test``, ``y_train``, ``y_test``.

    Raises:
        ValueError: If the test part would be too small to hold a row of
            every class.
    """
    if test_size == 0:
        return features, features.iloc[:0], target, target.iloc[:0]
    rows, classes = len(target), target.nunique()
    held_out = math.ceil(test_size * rows)  # as train_test_split counts
    if held_out < classes:
        raise ValueError(
            f"test_size = {test_size} holds out {held_out} of {rows} rows, fewer than the "
            f"{classes} classes a stratified split needs; set test_size to at least "
            f"{classes / rows:.3g}, or to 0 for no held-out part."
        )
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=test_size,
        stratify=target,
        random_state=random_state,
    )
    return x_train, x_test, y_train, y_test


def make_cv_splits(
    y_train: pd.Series, cv_folds: int, cv_shuffle: bool, random_state: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified k-fold splits that every model is cross-validated on.

    Computed once and shared, so that all models see exactly the same folds
    and their per-fold scores can be compared pairwise.

    Args:
        y_train: Class labels of the training part.
        cv_folds: Number of folds, k.
        cv_shuffle: Shuffle rows before folding (seeded); ``false`` gives the
            contiguous folds of ``cross_val_score(cv=k)``, as in the tutorial.
        random_state: Seed of the shuffle.

    Returns:
        One ``(train_positions, validation_positions)`` pair per fold.

    Raises:
        ValueError: If a class has fewer training rows than ``cv_folds``, so
            that some fold would have no example of it.
    """
    smallest = y_train.value_counts().min() if len(y_train) else 0
    if smallest < cv_folds:
        raise ValueError(
            f"cv_folds = {cv_folds} is more than the {smallest} training rows of the "
            f"smallest class; set cv_folds to at most {smallest} (or lower test_size)."
        )
    folds = StratifiedKFold(
        n_splits=cv_folds,
        shuffle=cv_shuffle,
        random_state=random_state if cv_shuffle else None,
    )
    return list(folds.split(np.zeros((len(y_train), 1)), y_train))
