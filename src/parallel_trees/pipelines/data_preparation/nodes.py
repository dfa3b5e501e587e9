"""Load a dataset, split it into train and held-out test parts, and fix the CV folds."""

import difflib
import logging
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

logger = logging.getLogger(__name__)

BUILT_IN = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}
CSV = "the CSV file (the catalog's raw_data)"
EXAMPLES = 3  # offending values or lines quoted in a message
# The largest magnitude the models take: they compute in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Training rows each class needs: k-fold CV puts a class in all k folds, k >= 2.
TRAIN_ROWS = 2


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
        DataError: If the CSV cannot be used as it is (see ``check_table``),
            or a class has too few rows to cross-validate (``check_class_sizes``).
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
        rows, classes = synthetic["n_samples"], list(range(synthetic["n_classes"]))
        target = pd.Series(target, name="target")
        check_class_sizes(
            target,
            classes,
            "the synthetic dataset",
            f"Raise synthetic.n_samples = {rows}: it gives each of the {len(classes)} classes "
            f"about {rows / len(classes):.2g} rows.",
        )
        return pd.DataFrame(features, columns=columns), target, classes
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
        DataError: If ``check_table`` or ``check_class_sizes`` finds a problem.
    """
    check_table(table, target_column)
    codes, classes = pd.factorize(table[target_column], sort=True)
    target = pd.Series(codes, index=table.index, name="target")
    check_class_sizes(
        target,
        classes.tolist(),
        f"target_column '{target_column}' of {CSV}",
        "Add rows of those classes, or drop their rows.",
        lines=True,
    )
    return table.drop(columns=target_column), target, classes.tolist()


def _lines(mask: pd.Series) -> str:
    """The file lines (header = line 1) of the first rows where ``mask`` holds."""
    lines = [str(position + 2) for position in np.flatnonzero(mask.to_numpy())[:EXAMPLES]]
    return ", ".join(lines) + (", ..." if mask.sum() > EXAMPLES else "")


def check_class_sizes(
    target: pd.Series, classes: list, where: str, fix: str, lines: bool = False
) -> None:
    """Refuse classes with fewer rows than cross-validation needs (``TRAIN_ROWS``).

    Args:
        target: The class code of each row.
        classes: The class names, by code.
        where: What holds the classes, for the message.
        fix: What to change, for the message.
        lines: Quote the file line of each class's rows (a CSV's).

    Raises:
        DataError: Naming the first such classes, their row counts and lines.
    """
    counts = np.bincount(target, minlength=len(classes))
    few = np.flatnonzero(counts < TRAIN_ROWS)
    if not few.size:
        return
    named = ", ".join(
        f"{classes[code]!r} ({counts[code]} row{'' if counts[code] == 1 else 's'}"
        + (f": line {_lines(target == code)})" if lines and counts[code] else ")")
        for code in few[:EXAMPLES]
    )
    more = (
        f" and {few.size - EXAMPLES} more of the {len(classes)} classes"
        if few.size > EXAMPLES
        else ""
    )
    raise DataError(
        f"{where} has classes with fewer than {TRAIN_ROWS} rows: {named}{more}; "
        f"cross-validation needs at least {TRAIN_ROWS} rows of every class "
        f"(cv_folds >= {TRAIN_ROWS}). {fix}"
    )


def check_table(table: pd.DataFrame, target_column: str) -> None:
    """Refuse a table a classifier cannot be trained on, saying what to change.

    Args:
        table: The user's table.
        target_column: The column holding the class labels.

    Raises:
        DataError: No rows; no such target column (the columns that exist
            are named); no feature column; feature names XGBoost refuses;
            non-numeric feature columns; missing values; values beyond
            float32; fewer than two classes.
    """
    columns = [str(c) for c in table.columns]
    if target_column not in table.columns:
        close = difflib.get_close_matches(target_column, columns, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(
            f"target_column = '{target_column}' is not a column of {CSV}.{hint} Its columns: "
            f"{', '.join(columns)}. Set target_column to the column that holds the classes.",
            settings=["target_column"],
        )
    if table.empty:
        raise DataError(f"{CSV} has a header row but no data rows.")
    features = table.drop(columns=target_column)
    if features.columns.empty:
        raise DataError(f"{CSV} has no feature columns besides '{target_column}'.")
    bad_names = [c for c in features.columns if any(ch in str(c) for ch in "[]<")]
    if bad_names:
        raise DataError(
            "Feature column names may not hold '[', ']' or '<' (XGBoost refuses them); in "
            f"{CSV} these do: {', '.join(repr(str(c)) for c in bad_names)}. Rename them in "
            "the header row."
        )
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
    huge = features.astype(float).abs() > FLOAT32_MAX  # infinite ones too
    if huge.to_numpy().any():
        where = "; ".join(
            f"'{c}' in {int(huge[c].sum())} rows (lines {_lines(huge[c])})"
            for c in huge.columns
            if huge[c].any()
        )
        raise DataError(
            f"{CSV} has values the models cannot take, infinite or beyond "
            f"±{FLOAT32_MAX:.2g} (float32, which the models compute in): {where}. "
            "Scale those columns, or fix or drop those rows."
        )
    classes = table[target_column].unique()
    if len(classes) < 2:  # noqa: PLR2004 - a classifier tells at least two classes apart
        raise DataError(
            f"target_column '{target_column}' of {CSV} has a single class ({classes[0]!r}): "
            "a classifier needs rows of at least two classes.",
            settings=["target_column"],
        )


def fewest_training_rows(counts: np.ndarray, train_rows: int) -> int:
    """The fewest rows a class surely gets in a stratified training part of ``train_rows``.

    As ``train_test_split`` shares them out: each class its share of
    ``train_rows``, rounded down, then the rows left over one each to the
    largest remainders, ties broken at random (so "surely": whatever the seed).

    Args:
        counts: Rows of each class.
        train_rows: Rows of the training part.
    """
    share = counts / counts.sum() * train_rows  # computed as scikit-learn does
    floored = np.floor(share)
    left_over = int(train_rows - floored.sum())
    remainder = share - floored
    # A class surely gets a row left over if no more classes have as large a remainder.
    as_large = len(counts) - np.searchsorted(np.sort(remainder), remainder, side="left")
    return int((floored + (as_large <= left_over)).min())


def held_out_limits(counts: np.ndarray) -> tuple[int, int]:
    """The fewest and the most rows a stratified split of ``counts`` may hold out.

    The test part needs a row per class; the training part ``TRAIN_ROWS`` of
    every class, surely. Every count between the two limits works (with
    imbalanced classes, some beyond the most may too); when none does, the
    most is below the fewest.

    Args:
        counts: Rows of each class.
    """
    rows, fewest = int(counts.sum()), len(counts)
    # From this many training rows on, every class's share alone is enough.
    enough = TRAIN_ROWS * rows // int(counts.min()) + 1
    train_rows = min(enough - 1, rows - fewest)
    while train_rows > 0 and fewest_training_rows(counts, train_rows) >= TRAIN_ROWS:
        train_rows -= 1
    return fewest, rows - train_rows - 1


def _test_sizes(rows: int, fewest: int, most: int) -> tuple[str, str]:
    """The test sizes, as short as they can be written, that hold out ``fewest`` to ``most`` rows.

    Checked as ``train_test_split`` counts: ``ceil(test_size * rows)`` rows held out.
    """
    for digits in range(3, 17):
        low, high = (_test_size(rows, count, digits) for count in (fewest, most))
        if fewest <= math.ceil(float(low) * rows):
            break
    return low, high


def _test_size(rows: int, count: int, digits: int) -> str:
    """The largest test size of ``digits`` significant digits that holds out at most ``count``."""
    value = count / rows
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(value)))
    steps = math.floor(round(value * scale, 6))
    text = f"{steps / scale:.{digits}g}"
    if math.ceil(float(text) * rows) > count:  # e.g. 0.56 * 100 is 56.00000000000001
        text = f"{(steps - 1) / scale:.{digits}g}"
    return text


def _split_problem(counts: np.ndarray, test_size: float) -> str | None:
    """Why a stratified split of ``counts`` cannot hold out ``test_size``, and what can."""
    rows = int(counts.sum())
    held_out = math.ceil(test_size * rows)  # as train_test_split counts
    needs = (
        f"surely keep {TRAIN_ROWS} training rows of every class, the fewest cross-validation "
        f"needs (cv_folds >= {TRAIN_ROWS})"
    )
    too_small = held_out < len(counts)
    if too_small:
        problem = f", fewer than the {len(counts)} classes a stratified split needs"
    elif fewest_training_rows(counts, rows - held_out) < TRAIN_ROWS:
        problem = f" and leaves {rows - held_out} for training, too few to {needs}"
    else:
        return None
    fewest, most = held_out_limits(counts)
    if most >= fewest:
        low, high = _test_sizes(rows, fewest, most)
        allowed = (
            f"set test_size {f'between {low} and' if low != high else 'to'} {high}, "
            "or to 0 for no held-out part."
        )
    else:
        allowed = (
            f"even a row per class held out ({fewest}) leaves too few"
            f"{f' to {needs}' if too_small else ''}: set test_size to 0 for no "
            "held-out part, or add rows."
        )
    return f"test_size = {test_size} holds out {held_out} of {rows} rows{problem}; {allowed}"


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
            every class, or the training part too small to surely keep
            ``TRAIN_ROWS`` rows of every class; the message gives the
            test sizes that work.
    """
    if test_size == 0:
        x_train, x_test, y_train, y_test = features, features.iloc[:0], target, target.iloc[:0]
    else:
        problem = _split_problem(target.value_counts().to_numpy(), test_size)
        if problem:
            raise DataError(problem, settings=["test_size"])
        x_train, x_test, y_train, y_test = train_test_split(
            features,
            target,
            test_size=test_size,
            stratify=target,
            random_state=random_state,
        )
    logger.info(
        "Data: %d rows, %d feature columns, %d classes; %d to train on, %d held out",
        len(target),
        features.shape[1],
        target.nunique(),
        len(y_train),
        len(y_test),
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
            f"{smallest}, lower test_size, or add rows of that class.",
            settings=["cv_folds"],
        )
    folds = StratifiedKFold(
        n_splits=cv_folds,
        shuffle=cv_shuffle,
        random_state=random_state if cv_shuffle else None,
    )
    return list(folds.split(np.zeros((len(y_train), 1)), y_train))
