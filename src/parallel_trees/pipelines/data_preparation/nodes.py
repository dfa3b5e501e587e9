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
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, train_test_split

from parallel_trees.errors import DataError
from parallel_trees.metrics import AUTO, CLASSIFICATION, chosen
from parallel_trees.preprocessing import MAX_ONE_HOT, inferred_role

logger = logging.getLogger(__name__)

BUILT_IN = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}
EXAMPLES = 3  # offending values or lines quoted in a message
# The largest magnitude the models take: they compute in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Rows of the input example logged beside each model (take_input_example).
INPUT_EXAMPLE_ROWS = 5
# Training rows each class needs: k-fold CV puts a class in all k folds, k >= 2.
TRAIN_ROWS = 2


def load_dataset(
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    target_column: str,
    raw_data: Any,
) -> tuple[pd.DataFrame, pd.Series, list, dict[str, str]]:
    """Load a dataset shipped with scikit-learn, make a synthetic one, or take the user's CSV.

    Args:
        dataset: ``iris``, ``wine``, ``breast_cancer``, ``synthetic`` or ``csv``.
        synthetic: ``n_samples``, ``n_features``, ``n_informative`` and
            ``n_classes`` of the synthetic dataset.
        random_state: Seed of the synthetic dataset.
        target_column: The column of the CSV that holds the class labels.
        raw_data: The CSV file's ``Table`` (read only when ``dataset`` is ``csv``).

    Returns:
        The features; the class of each row as a code ``0..k-1`` (named
        ``target``, or as the CSV's label column); the k class names, code
        ``i`` naming ``classes[i]``; and the CSV file read (its ``path`` and
        ``sha256``), empty for a built-in dataset (Kedro saves no ``None``).

    Raises:
        DataError: If the CSV cannot be used as it is (see ``check_table``),
            or a class has too few rows to cross-validate (``check_class_sizes``).
    """
    if dataset == "csv":
        source = {"path": raw_data.path, "sha256": raw_data.sha256}
        features, target, classes = encode_table(raw_data.data, target_column, raw_data.path)
        return as_float32(features), target, classes, source
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
        return as_float32(pd.DataFrame(features, columns=columns)), target, classes, {}
    if dataset not in BUILT_IN:
        allowed = ", ".join([*BUILT_IN, "synthetic", "csv"])
        raise ValueError(f"dataset: unknown '{dataset}'; allowed: {allowed}")
    bunch = BUILT_IN[dataset](as_frame=True)
    return as_float32(bunch.data), bunch.target.rename("target"), bunch.target_names.tolist(), {}


def as_float32(features: pd.DataFrame) -> pd.DataFrame:
    """``features`` with float64 columns as float32, which the models compute in.

    Each fit would convert them anyway (a forest to float32, XGBoost to its own
    float32 matrix): converted once, here, the data takes half the memory in
    every process, and the models' scores stay exactly the same.
    """
    wide = features.columns[features.dtypes == np.float64]
    return features.astype(dict.fromkeys(wide, np.float32)) if len(wide) else features


def encode_table(
    table: pd.DataFrame, target_column: str, path: str
) -> tuple[pd.DataFrame, pd.Series, list]:
    """Split a checked table into features and encoded class labels.

    Rows with no label are dropped, with a note saying how many.

    Args:
        table: One row per example, with a header row naming the columns.
        target_column: The column holding the class labels (strings or integers).
        path: The CSV file the table was read from (for messages).

    Returns:
        As ``load_dataset``: features, class codes (sorted class names, the
        series named as ``target_column``), class names.

    Raises:
        DataError: If ``check_table`` or ``check_class_sizes`` finds a problem.
    """
    check_table(table, target_column, path)
    unlabelled = table[target_column].isna()
    if unlabelled.any():
        logger.warning(
            "Dropped %d of %d rows of %s: no label in '%s' (lines %s)",
            unlabelled.sum(),
            len(table),
            path,
            target_column,
            _lines(unlabelled),
        )
        table = table[~unlabelled]
    codes, classes = pd.factorize(table[target_column], sort=True)
    target = pd.Series(codes, index=table.index, name=target_column)
    check_class_sizes(
        target,
        classes.tolist(),
        f"target_column '{target_column}' of {path}",
        "Add rows of those classes, or drop their rows.",
        lines=True,
    )
    return table.drop(columns=target_column), target, classes.tolist()


def _lines(mask: pd.Series) -> str:
    """The file lines (header = line 1) of the first rows where ``mask`` holds.

    Rows are counted by their index in the table as read (kept when rows are dropped).
    """
    lines = [str(row + 2) for row in mask.index[mask.to_numpy()][:EXAMPLES]]
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


def check_table(table: pd.DataFrame, target_column: str, path: str) -> None:
    """Refuse a table a classifier cannot be trained on, saying what to change.

    Text and missing values are welcome (each model encodes them); rows with
    no label are dropped (``encode_table``).

    Args:
        table: The user's table.
        target_column: The column holding the class labels.
        path: The CSV file the table was read from (for messages).

    Raises:
        DataError: No rows; no such target column (the columns that exist
            are named); no feature column; fewer than two classes.
    """
    columns = [str(c) for c in table.columns]
    if target_column not in table.columns:
        close = difflib.get_close_matches(target_column, columns, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(
            f"target_column = '{target_column}' is not a column of {path}.{hint} Its columns: "
            f"{', '.join(columns)}. Set target_column to the column that holds the classes.",
            settings=["target_column"],
        )
    if table.empty:
        raise DataError(f"{path} has a header row but no data rows.")
    if table.columns.size == 1:
        raise DataError(f"{path} has no feature columns besides '{target_column}'.")
    classes = table[target_column].dropna().unique()
    if len(classes) < 2:  # noqa: PLR2004 - a classifier tells at least two classes apart
        found = f"a single class ({classes[0]!r})" if len(classes) else "no label on any row"
        raise DataError(
            f"target_column '{target_column}' of {path} has {found}: "
            "a classifier needs rows of at least two classes.",
            settings=["target_column"],
        )


def infer_column_roles(
    x_train: pd.DataFrame,
    x_test: pd.DataFrame,
    column_roles: dict[str, str],
    data_source: dict[str, str],
) -> dict[str, Any]:
    """Each feature column's role: numeric, categorical, or excluded (with why).

    Inferred from the training rows' values alone (``preprocessing.inferred_role``),
    as every fitted step is: the held-out rows take no part in choosing how a column
    is used. ``column_roles`` sets any column's role instead. Each excluded column
    gets a log line. The numeric columns' values are checked on every row.

    Args:
        x_train: The training rows' features.
        x_test: The held-out rows' features (checked, not learned from).
        column_roles: Roles set by the user, by column name.
        data_source: The CSV file read (for messages), empty for a built-in dataset.

    Returns:
        ``numeric`` and ``categorical``: lists of columns, in the table's
        order; ``many_levels``: the categorical ones with more than
        ``MAX_ONE_HOT`` levels; ``excluded``: why each excluded column is, by
        column name.

    Raises:
        DataError: A role set for a column the table lacks; a numeric role
            set for a column that holds text; numbers beyond float32; no
            column left to learn from.
    """
    where = data_source["path"] if data_source else "the dataset"
    unknown = [c for c in column_roles if c not in x_train.columns]
    if unknown:
        raise DataError(
            f"column_roles sets {', '.join(map(repr, unknown))}, not a feature column of "
            f"{where}; its feature columns: {', '.join(map(str, x_train.columns))}."
        )
    roles: dict[str, Any] = {"numeric": [], "categorical": [], "excluded": {}}
    for column in x_train.columns:
        role, why = inferred_role(x_train[column])
        if column in column_roles:
            role, why = column_roles[column], "set in column_roles"
        if role == "excluded":
            roles["excluded"][column] = why
            logger.info("Column '%s' of %s is left out: %s", column, where, why)
        else:
            roles[role].append(column)
    roles["many_levels"] = [c for c in roles["categorical"] if x_train[c].nunique() > MAX_ONE_HOT]
    _check_numeric(pd.concat([x_train, x_test])[roles["numeric"]], where)
    if not roles["numeric"] and not roles["categorical"]:
        raise DataError(
            f"{where} has no column to learn from: every feature column is left out "
            f"({'; '.join(f'{c}: {why}' for c, why in roles['excluded'].items())}). "
            "Set a column's role in column_roles, or add columns."
        )
    return roles


def _check_numeric(numeric: pd.DataFrame, where: str) -> None:
    """Refuse text in a numeric column, and numbers the models cannot take."""
    for column in numeric.columns:
        values = numeric[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        if text.any():
            first = int(np.flatnonzero(text.to_numpy())[0])
            raise DataError(
                f"column_roles makes '{column}' of {where} numeric, but it holds text: "
                f"{values.iloc[first]!r} on line {first + 2}. Fix those rows, or make it "
                "categorical."
            )
    huge = numeric.apply(pd.to_numeric).astype(float).abs() > FLOAT32_MAX  # infinite too
    if huge.to_numpy().any():
        at = "; ".join(
            f"'{c}' in {int(huge[c].sum())} rows (lines {_lines(huge[c])})"
            for c in huge.columns
            if huge[c].any()
        )
        raise DataError(
            f"{where} has values the models cannot take, infinite or beyond "
            f"±{FLOAT32_MAX:.2g} (float32, which the models compute in): {at}. "
            "Scale those columns, or fix or drop those rows."
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


def take_input_example(x_train: pd.DataFrame) -> pd.DataFrame:
    """A few training rows as the models take them: raw columns, dtypes and missing values.

    MLflow logs them beside each model (its input example and signature), so
    that the logged model shows what rows it predicts from. Float columns are
    float64, as new rows come (``load_dataset`` made them float32 for training).
    """
    example = x_train.head(INPUT_EXAMPLE_ROWS)
    narrow = example.columns[example.dtypes == np.float32]
    return example.astype(dict.fromkeys(narrow, np.float64))


def make_cv_splits(
    y_train: pd.Series,
    classes: list,
    cv_folds: int,
    cv_shuffle: bool,
    random_state: int,
    cv_repeats: int = 1,
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
        cv_repeats: How many times k-fold CV is run, each time on another seeded
            shuffle (repeated stratified k-fold; ``cv_shuffle`` must be on).

    Returns:
        One ``(train_positions, validation_positions)`` pair per fold: the k folds
        of the first repeat, then of the next.

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
    if cv_repeats > 1:
        folds = RepeatedStratifiedKFold(
            n_splits=cv_folds, n_repeats=cv_repeats, random_state=random_state
        )
    else:
        folds = StratifiedKFold(
            n_splits=cv_folds,
            shuffle=cv_shuffle,
            random_state=random_state if cv_shuffle else None,
        )
    return list(folds.split(np.zeros((len(y_train), 1)), y_train))


def choose_yardstick(
    metric: str, positive_class: Any, classes: list, y_train: pd.Series
) -> dict[str, Any]:
    """What the models are judged by: the metric, its direction, and the classes it reads.

    Args:
        metric: The ``metric`` parameter (``auto``: accuracy).
        positive_class: The class F1, precision and recall are of, on a two-class
            table; ``None``: the rarer class of the training rows (the second, in
            the classes' order, when both are as many).
        classes: The class names, by code.
        y_train: The training rows' class codes.

    Returns:
        ``task``, ``metric`` (its name), ``chosen`` (whether the user named it),
        ``greater_is_better``, ``classes`` (how many), ``positive`` (the positive
        class's code, two classes only), ``positive_class`` (its name) and
        ``majority`` (the most frequent class of the training rows, which the
        baseline always guesses).

    Raises:
        DataError: A ``positive_class`` that is not a class of the table, or set on a
            table of more than two classes.
    """
    yardstick = chosen(metric)
    counts = np.bincount(y_train.to_numpy(), minlength=len(classes))
    positive = None
    if positive_class is not None:
        named = [i for i, c in enumerate(classes) if str(c) == str(positive_class)]
        if not named:
            raise DataError(
                f"positive_class = {positive_class!r} is not a class of the table; its classes: "
                f"{', '.join(map(repr, classes))}.",
                settings=["positive_class"],
            )
        if len(classes) > 2:  # noqa: PLR2004 - a positive class and the other
            raise DataError(
                f"positive_class = {positive_class!r}: the table has {len(classes)} classes, and "
                "F1, precision and recall average them all (macro); a positive class is for two. "
                "Set positive_class to null.",
                settings=["positive_class"],
            )
        positive = named[0]
    elif len(classes) == 2:  # noqa: PLR2004
        positive = 0 if counts[0] < counts[1] else 1  # the rarer; the second on a tie
    return {
        "task": CLASSIFICATION,
        "metric": yardstick.name,
        "chosen": metric != AUTO,
        "greater_is_better": yardstick.greater_is_better,
        "classes": len(classes),
        "positive": positive,
        "positive_class": None if positive is None else classes[positive],
        "majority": classes[int(np.argmax(counts))],
    }
