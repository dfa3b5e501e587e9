"""Load a dataset, split it into train and held-out test parts, and fix the CV folds."""

import difflib
import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

from parallel_trees.errors import DataError

BUILT_IN = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}
CSV = "the CSV file (the catalog's raw_data)"
EXAMPLES = 3  # offending values or lines quoted in a message


def load_dataset(
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    target_column: str,
    raw_data: Any,
) -> tuple[pd.DataFrame, pd.Series, list]:
    """Load a dataset shipped with scikit-learn, make a synthetic one, or take the user's CSV.

    Args:
        dataset: ``iris``, ``wine``, ``breast_cancer``, ``synthetic`` or ``csv``.
        synthetic: ``n_samples``, ``n_features``, ``n_informative`` and
            ``n_classes`` of the synthetic dataset.
        random_state: Seed of the synthetic dataset.
        target_column: The column of the CSV that holds the class labels.
        raw_data: The CSV's table (read only when ``dataset`` is ``csv``).

    Returns:
        The features; the class of each row as a code ``0..k-1`` (named
        ``target``); and the k class names, code ``i`` naming ``classes[i]``.

    Raises:
        DataError: If the CSV cannot be used as it is (see ``check_table``).
    """
    if dataset == "csv":
        return encode_table(raw_data, target_column)
    if dataset == "synthetic":
        features, target = make_classification(
            **synthetic,
            n_redundant=0,
            n_clusters_per_class=1,
            random_state=random_state,
        )
        columns = [f"x{i}" for i in range(features.shape[1])]
        classes = list(range(synthetic["n_classes"]))
        return pd.DataFrame(features, columns=columns), pd.Series(target, name="target"), classes
    if dataset not in BUILT_IN:
        allowed = ", ".join([*BUILT_IN, "synthetic", "csv"])
        raise ValueError(f"dataset: unknown '{dataset}'; allowed: {allowed}")
    bunch = BUILT_IN[dataset](as_frame=True)
    return bunch.data, bunch.target.rename("target"), bunch.target_names.tolist()


def encode_table(table: pd.DataFrame, target_column: str) -> tuple[pd.DataFrame, pd.Series, list]:
    """Split a checked table into numeric features and encoded class labels.

    Args:
        table: One row per example, with a header row naming the columns.
        target_column: The column holding the class labels (strings or integers).

    Returns:
        As ``load_dataset``: features, class codes (sorted class names), class names.

    Raises:
        DataError: If ``check_table`` finds a problem.
    """
    check_table(table, target_column)
    codes, classes = pd.factorize(table[target_column], sort=True)
    target = pd.Series(codes, index=table.index, name="target")
    return table.drop(columns=target_column), target, classes.tolist()


def _lines(mask: pd.Series) -> str:
    """The file lines (header = line 1) of the first rows where ``mask`` holds."""
    lines = [str(position + 2) for position in np.flatnonzero(mask.to_numpy())[:EXAMPLES]]
    return ", ".join(lines) + (", ..." if mask.sum() > EXAMPLES else "")


def check_table(table: pd.DataFrame, target_column: str) -> None:
    """Refuse a table a classifier cannot be trained on, saying what to change.

    Args:
        table: The user's table.
        target_column: The column holding the class labels.

    Raises:
        DataError: No rows; no such target column (the columns that exist
            are named); no feature column; non-numeric feature columns;
            missing values; fewer than two classes.
    """
    columns = [str(c) for c in table.columns]
    if target_column not in table.columns:
        close = difflib.get_close_matches(target_column, columns, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(
            f"target_column = '{target_column}' is not a column of {CSV}.{hint} Its columns: "
            f"{', '.join(columns)}. Set target_column to the column that holds the classes."
        )
    if table.empty:
        raise DataError(f"{CSV} has a header row but no data rows.")
    features = table.drop(columns=target_column)
    if features.columns.empty:
        raise DataError(f"{CSV} has no feature columns besides '{target_column}'.")
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if text:
        examples = ", ".join(
            f"'{c}' (e.g. {features[c].dropna().iloc[0]!r})"
            if features[c].notna().any()
            else f"'{c}'"
            for c in text
        )
        raise DataError(
            f"Feature columns must be numeric; in {CSV} these are not: {examples}. Encode them "
            "as numbers (e.g. one-hot with pandas.get_dummies) or drop them."
        )
    missing = table.isna()
    if missing.to_numpy().any():
        where = "; ".join(
            f"'{c}' in {int(missing[c].sum())} rows (lines {_lines(missing[c])})"
            for c in table.columns
            if missing[c].any()
        )
        raise DataError(f"{CSV} has missing values: {where}. Fill them in or drop those rows.")
    classes = table[target_column].unique()
    if len(classes) < 2:  # noqa: PLR2004 - a classifier tells at least two classes apart
        raise DataError(
            f"target_column '{target_column}' of {CSV} has a single class ({classes[0]!r}): "
            "a classifier needs rows of at least two classes."
        )


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
        DataError: If the test part would be too small to hold a row of
            every class.
    """
    if test_size == 0:
        return features, features.iloc[:0], target, target.iloc[:0]
    rows, classes = len(target), target.nunique()
    held_out = math.ceil(test_size * rows)  # as train_test_split counts
    if held_out < classes:
        raise DataError(
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
    y_train: pd.Series, classes: list, cv_folds: int, cv_shuffle: bool, random_state: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stratified k-fold splits that every model is cross-validated on.

    Computed once and shared, so that all models see exactly the same folds
    and their per-fold scores can be compared pairwise.

    Args:
        y_train: Class codes of the training part.
        classes: The class names, by code (for messages).
        cv_folds: Number of folds, k.
        cv_shuffle: Shuffle rows before folding (seeded); ``false`` gives the
            contiguous folds of ``cross_val_score(cv=k)``, as in the tutorial.
        random_state: Seed of the shuffle.

    Returns:
        One ``(train_positions, validation_positions)`` pair per fold.

    Raises:
        DataError: If a class has fewer training rows than ``cv_folds``, so
            that some fold would have no example of it.
    """
    counts = y_train.value_counts()
    smallest = counts.min() if len(y_train) else 0
    if smallest < cv_folds:
        raise DataError(
            f"cv_folds = {cv_folds} is more than the {smallest} training rows of the "
            f"smallest class, {classes[counts.idxmin()]!r}; set cv_folds to at most "
            f"{smallest}, lower test_size, or add rows of that class."
        )
    folds = StratifiedKFold(
        n_splits=cv_folds,
        shuffle=cv_shuffle,
        random_state=random_state if cv_shuffle else None,
    )
    return list(folds.split(np.zeros((len(y_train), 1)), y_train))
