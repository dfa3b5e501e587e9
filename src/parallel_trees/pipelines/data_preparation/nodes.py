"""Load a dataset, split it into train and held-out test parts, and fix the CV folds."""

import difflib
import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    load_wine,
    make_classification,
    make_regression,
)
from sklearn.model_selection import train_test_split

from parallel_trees.errors import DataError
from parallel_trees.metrics import DEFAULT, chosen, names
from parallel_trees.parameters import RAW_DATA, dataset_name
from parallel_trees.preprocessing import (
    MAX_ONE_HOT,
    first_text,
    inferred_role,
    used_columns,
    whole_numbers,
)
from parallel_trees.sources import EXAMPLES, Table, rows, rows_where, where
from parallel_trees.tasks import AUTO, CLASSIFICATION, REGRESSION, folds, infer_task

logger = logging.getLogger(__name__)

BUILT_IN = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "diabetes": load_diabetes,
}
NUMERIC_TARGETS = {"diabetes"}  # built-in datasets whose target is a number
# The largest magnitude the models take: they compute in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Rows of the input example logged beside each model (take_input_example).
INPUT_EXAMPLE_ROWS = 5
# Training rows each class needs: k-fold CV puts a class in all k folds, k >= 2.
TRAIN_ROWS = 2
# Rows of the synthetic table shuffled at a time (``_shuffled``): 5 MB of float64 at 20 columns.
SHUFFLE_BLOCK = 2**15


def load_dataset(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    dataset: str,
    synthetic: dict[str, Any],
    random_state: int,
    target_column: str,
    raw_data: Table | Any,
    task: str = AUTO,
) -> tuple[pd.DataFrame, pd.Series, list, dict[str, str], str]:
    """Load a dataset shipped with scikit-learn, make a synthetic one, or take the user's
    table, and decide what the run predicts: classes or numbers (``tasks.infer_task``).

    Args:
        dataset: ``iris``, ``wine``, ``breast_cancer``, ``diabetes``, ``synthetic`` or
            ``raw_data`` (the user's table; ``csv``, its earlier name, too).
        synthetic: ``n_samples``, ``n_features``, ``n_informative``, ``n_classes`` and
            ``noise`` (regression) of the synthetic dataset.
        random_state: Seed of the synthetic dataset.
        target_column: The column of the user's table that holds the target.
        raw_data: The user's ``Table`` (read only when ``dataset`` is ``raw_data``).
        task: ``auto`` (the target decides; a synthetic dataset is classes),
            ``classification`` or ``regression``.

    Returns:
        The features; the target of each row (named ``target``, or as the table's
        column): a class code ``0..k-1``, or a number; the k class names, code ``i``
        naming ``classes[i]`` (none for a regression); the table's source
        (``sources.describe``: its catalog entry, type, path, table or query, and
        the ``sha256`` of its content), empty for a built-in dataset (Kedro saves no
        ``None``); and the task, ``classification`` or ``regression``.

    Raises:
        DataError: If the table cannot be used as it is (see ``check_table``), a class
            has too few rows to cross-validate (``check_class_sizes``), or a target
            that is not numbers is to be regressed.
    """
    if dataset_name(dataset) == RAW_DATA:
        source = raw_data.source
        features, target, classes, task = encode_table(raw_data.data, target_column, task, source)
        return as_float32(features), target, classes, source, task
    if dataset == "synthetic":
        features, target, classes, task = _synthetic(synthetic, random_state, task)
        return as_float32(features), target, classes, {}, task
    if dataset not in BUILT_IN:
        allowed = ", ".join([*BUILT_IN, "synthetic", RAW_DATA])
        raise ValueError(f"dataset: unknown '{dataset}'; allowed: {allowed}")
    bunch = BUILT_IN[dataset](as_frame=True)
    natural = REGRESSION if dataset in NUMERIC_TARGETS else CLASSIFICATION
    chosen_task = natural if task == AUTO else task
    target = bunch.target.rename("target")
    where = f"the {dataset} dataset's target"
    if chosen_task == REGRESSION:
        classes, target = [], target.astype(float)
        _log_task(chosen_task, "is a number" if task == AUTO else None, where)
    elif natural == REGRESSION:  # task: classification, on numbers
        _log_task(chosen_task, None, where)
        target, classes = _class_codes(target, where, "Its values are numbers: keep task: auto.")
    else:
        classes = bunch.target_names.tolist()
    return as_float32(bunch.data), target, classes, {}, chosen_task


def _synthetic(
    synthetic: dict[str, Any], random_state: int, task: str
) -> tuple[pd.DataFrame, pd.Series, list, str]:
    """``make_regression``'s table when ``task`` is regression, else ``make_classification``'s."""
    size = {key: synthetic[key] for key in ("n_samples", "n_features", "n_informative")}
    columns = [f"x{i}" for i in range(synthetic["n_features"])]
    generator = np.random.RandomState(random_state)  # as the generators make it of a seed
    if task == REGRESSION:
        features, target = make_regression(
            **size, noise=synthetic.get("noise", 0.0), shuffle=False, random_state=generator
        )
        features, target = _shuffled(features, target, generator)
        _log_task(REGRESSION, None, "the synthetic dataset")
        return _frame(features, columns), pd.Series(target, name="target"), [], REGRESSION
    features, target = make_classification(
        **size,
        n_classes=synthetic["n_classes"],
        n_redundant=0,
        n_clusters_per_class=1,
        shuffle=False,
        random_state=generator,
    )
    features, target = _shuffled(features, target, generator)
    rows, classes = synthetic["n_samples"], list(range(synthetic["n_classes"]))
    target = pd.Series(target, name="target")
    check_class_sizes(
        target,
        classes,
        "the synthetic dataset",
        f"Raise synthetic.n_samples = {rows}: it gives each of the {len(classes)} classes "
        f"about {rows / len(classes):.2g} rows.",
    )
    return _frame(features, columns), target, classes, CLASSIFICATION


def _shuffled(
    features: np.ndarray, target: np.ndarray, generator: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """The generators' ``shuffle=True``, drawn from ``generator`` as they draw it (the rows,
    then the columns), into float32 (``as_float32``) a block of rows at a time.

    The same table, bit for bit, in less memory: their own shuffle keeps the unshuffled
    float64 table beside two shuffled copies (466 MB at the peak for 1e6 rows of 20
    columns; this way 252 MB, the float64 table and the float32 one). The unit tests
    compare it with the generators' own, so that a change of theirs shows.
    """
    rows, columns = np.arange(len(target)), np.arange(features.shape[1])
    generator.shuffle(rows)
    generator.shuffle(columns)
    shuffled = np.empty(features.shape, dtype=np.float32)
    for start in range(0, len(rows), SHUFFLE_BLOCK):
        block = rows[start : start + SHUFFLE_BLOCK]
        shuffled[start : start + len(block)] = features[np.ix_(block, columns)]
    return shuffled, target[rows]


def _frame(features: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The synthetic features (float32) as a table, without a copy."""
    return pd.DataFrame(features, columns=columns, copy=False)


def _log_task(task: str, why: str | None, where: str) -> None:
    """The console line that says which task the run chose, why (``None``: the ``task``
    parameter set it), and how to change it."""
    other = REGRESSION if task == CLASSIFICATION else CLASSIFICATION
    reason = f"since {where} {why}" if why else f"as task={task} sets, for {where}"
    logger.info(
        "Task: %s (it predicts %s), %s; set task=%s to predict %s.",
        task,
        "numbers" if task == REGRESSION else "classes",
        reason,
        other,
        "numbers" if other == REGRESSION else "classes",
    )


def as_float32(features: pd.DataFrame) -> pd.DataFrame:
    """``features`` with float64 columns as float32, which the models compute in.

    Each fit would convert them anyway (a forest to float32, XGBoost to its own
    float32 matrix): converted once, here, the data takes half the memory in
    every process, and the models' scores stay exactly the same. A table of float64
    columns alone is cast block by block, so that its columns stay one array: a fit
    reads that array as it is, where columns cast one by one are copied into one
    first (61 MB more for each fit at 1e6 rows of 20 columns).
    """
    wide = features.dtypes == np.float64
    if not wide.any():
        return features
    if wide.all():
        return features.astype(np.float32)
    return features.astype(dict.fromkeys(features.columns[wide], np.float32))


def encode_table(
    table: pd.DataFrame, target_column: str, task: str, source: dict[str, str]
) -> tuple[pd.DataFrame, pd.Series, list, str]:
    """Split a checked table into features and its target, as the task takes it.

    Rows with no target value are dropped, with a note saying how many.

    Args:
        table: One row per example, with a header row naming the columns.
        target_column: The column holding the target: class labels (strings or
            integers), or the numbers to predict.
        task: ``auto`` (``tasks.infer_task``), ``classification`` or ``regression``.
        source: Where the table was read from (``sources.describe``; for messages).

    Returns:
        As ``load_dataset``: features, the target (class codes of the sorted class
        names, or numbers; the series named as ``target_column``), class names, task.

    Raises:
        DataError: If ``check_table`` or ``check_class_sizes`` finds a problem, or a
            target that is not numbers is to be regressed.
    """
    check_table(table, target_column, source)
    unlabelled = table[target_column].isna()
    if unlabelled.any():
        logger.warning(
            "Dropped %d of %d rows of %s: no label in '%s' (%s)",
            unlabelled.sum(),
            len(table),
            where(source),
            target_column,
            rows_where(source, unlabelled),
        )
        table = table[~unlabelled]
    column = f"target_column '{target_column}' of {where(source)}"
    set_task = task
    task, why = infer_task(table[target_column], task)
    _log_task(task, why if set_task == AUTO else None, column)
    features = table.drop(columns=target_column)
    if task == REGRESSION:
        return features, _numbers(table[target_column], column, source), [], task
    _check_two_classes(table[target_column], column)
    target, classes = _class_codes(
        table[target_column], column, "Add rows of those classes, or drop their rows.", source
    )
    return features, target, classes, task


def _class_codes(
    labels: pd.Series, where: str, fix: str, source: dict[str, str] | None = None
) -> tuple[pd.Series, list]:
    """Each row's class code, by the sorted class names, and the names; classes too small
    to cross-validate refused (``check_class_sizes``)."""
    codes, classes = pd.factorize(labels, sort=True)
    target = pd.Series(codes, index=labels.index, name=labels.name)
    check_class_sizes(target, classes.tolist(), where, fix, source=source)
    return target, classes.tolist()


def _check_two_classes(labels: pd.Series, where: str) -> None:
    classes = labels.unique()
    if len(classes) < 2:  # noqa: PLR2004 - a classifier tells at least two classes apart
        raise DataError(
            f"{where} has a single class ({classes[0]!r}): "
            "a classifier needs rows of at least two classes.",
            settings=["target_column"],
        )


def _numbers(values: pd.Series, where: str, source: dict[str, str]) -> pd.Series:
    """The target as the numbers a regression predicts; refused when it holds text, values
    that are not finite, or a single value."""
    truth_values = pd.api.types.is_bool_dtype(values)
    if truth_values or not pd.api.types.is_numeric_dtype(values):
        words = pd.to_numeric(values, errors="coerce").isna()
        first = values[words].iloc[0] if words.any() else values.iloc[0]
        raise DataError(
            f"task = regression, but {where} holds "
            f"{'true/false values' if truth_values else 'text'} such as {first!r}: only "
            "numbers can be regressed. Set task to classification (or auto), or choose a "
            "numeric target_column.",
            settings=["task", "target_column"],
        )
    numbers = values.astype(float)
    infinite = ~np.isfinite(numbers)
    if infinite.any():
        raise DataError(
            f"{where} has infinite values ({rows_where(source, infinite)}): a regression "
            "needs finite numbers. Fix or drop those rows.",
            settings=["target_column"],
        )
    if numbers.nunique() < 2:  # noqa: PLR2004 - a model learns how the target varies
        raise DataError(
            f"{where} holds a single value ({numbers.iloc[0]:g}): there is nothing to predict.",
            settings=["target_column"],
        )
    return numbers


def check_class_sizes(
    target: pd.Series, classes: list, where: str, fix: str, source: dict[str, str] | None = None
) -> None:
    """Refuse classes with fewer rows than cross-validation needs (``TRAIN_ROWS``).

    Args:
        target: The class code of each row.
        classes: The class names, by code.
        where: What holds the classes, for the message.
        fix: What to change, for the message.
        source: The user's table the rows were read from: quote each class's rows as
            its user finds them (``sources.rows``).

    Raises:
        DataError: Naming the first such classes, their row counts and lines.
    """
    counts = np.bincount(target, minlength=len(classes))
    few = np.flatnonzero(counts < TRAIN_ROWS)
    if not few.size:
        return
    named = ", ".join(
        f"{classes[code]!r} ({counts[code]} row{'' if counts[code] == 1 else 's'}"
        + (f": {rows_where(source, target == code)})" if source and counts[code] else ")")
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


def check_table(table: pd.DataFrame, target_column: str, source: dict[str, str]) -> None:
    """Refuse a table no model can be trained on, saying what to change.

    Text and missing values are welcome (each model encodes them); rows with
    no label are dropped (``encode_table``).

    Args:
        table: The user's table.
        target_column: The column holding the class labels.
        source: Where the table was read from (``sources.describe``; for messages).

    Raises:
        DataError: No rows; no such target column (the columns that exist
            are named); no feature column; no target value on any row.
    """
    path = where(source)
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
    if table[target_column].isna().all():
        raise DataError(
            f"target_column '{target_column}' of {path} has no label on any row: "
            "nothing to learn from.",
            settings=["target_column"],
        )


def infer_column_roles(
    x_train: pd.DataFrame,
    x_test: pd.DataFrame,
    column_roles: dict[str, str],
    data_source: dict[str, str],
    classes: list,
) -> dict[str, Any]:
    """Each feature column's role: numeric, categorical, or excluded (with why).

    Inferred from the training rows' values alone (``preprocessing.inferred_role``),
    as every fitted step is: the held-out rows take no part in choosing how a column
    is used. ``column_roles`` sets any column's role instead. Each excluded column
    gets a log line, then the ``Data:`` line counts the rows and the columns used.
    The numeric columns' values are checked on every row.

    Args:
        x_train: The training rows' features.
        x_test: The held-out rows' features (checked, not learned from).
        column_roles: Roles set by the user, by column name.
        data_source: The user's table's source (for messages), empty for a built-in dataset.
        classes: The class names (none for a regression), for the ``Data:`` line.

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
    name = where(data_source)
    unknown = [c for c in column_roles if c not in x_train.columns]
    if unknown:
        raise DataError(
            f"column_roles sets {', '.join(map(repr, unknown))}, not a feature column of "
            f"{name}; its feature columns: {', '.join(map(str, x_train.columns))}."
        )
    roles: dict[str, Any] = {"numeric": [], "categorical": [], "excluded": {}}
    for column in x_train.columns:
        role, why = inferred_role(x_train[column])
        if column in column_roles:
            role, why = column_roles[column], "set in column_roles"
        if role == "excluded":
            roles["excluded"][column] = why
            logger.info("Column '%s' of %s is left out: %s", column, name, why)
        else:
            roles[role].append(column)
    roles["many_levels"] = [c for c in roles["categorical"] if x_train[c].nunique() > MAX_ONE_HOT]
    _check_numeric([x_train, x_test], roles["numeric"], data_source)
    if not roles["numeric"] and not roles["categorical"]:
        raise DataError(
            f"{name} has no column to learn from: every feature column is left out "
            f"({'; '.join(f'{c}: {why}' for c, why in roles['excluded'].items())}). "
            "Set a column's role in column_roles, or add columns."
        )
    left_out = len(roles["excluded"])
    used = x_train.shape[1] - left_out
    logger.info(
        "Data: %d rows, %d feature column%s%s, %s; %d to train on, %d held out",
        len(x_train) + len(x_test),
        used,
        "" if used == 1 else "s",
        f" ({left_out} left out)" if left_out else "",
        f"{len(classes)} classes" if classes else "a numeric target",
        len(x_train),
        len(x_test),
    )
    return roles


def _check_numeric(parts: list[pd.DataFrame], columns: list[str], source: dict[str, str]) -> None:
    """Refuse text in a numeric column of the table's ``parts`` (its training and held-out
    rows), and numbers the models cannot take; rows are named by their index in the
    table as read.

    One column at a time: the whole table in float64 took 5 times its float32
    features (330 MB more at 1e6 rows of 20 columns).
    """
    name = where(source)

    def values_of(column: str) -> pd.Series:
        return pd.concat([part[column] for part in parts if column in part.columns])

    for column in columns:
        values = values_of(column)
        first = first_text(values)
        if first is not None:
            raise DataError(
                f"column_roles makes '{column}' of {name} numeric, but it holds text: "
                f"{values.iloc[first]!r} on {rows(source, [values.index[first]])}. Fix those "
                "rows, or make it categorical."
            )
    huge = {}  # infinite too
    for column in columns:
        beyond = pd.to_numeric(values_of(column)).astype(float).abs() > FLOAT32_MAX
        if beyond.any():
            huge[column] = beyond
    if huge:
        at = "; ".join(
            f"'{c}' in {int(beyond.sum())} rows ({rows_where(source, beyond)})"
            for c, beyond in huge.items()
        )
        raise DataError(
            f"{name} has values the models cannot take, infinite or beyond "
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
    features: pd.DataFrame,
    target: pd.Series,
    test_size: float,
    random_state: int,
    task: str = CLASSIFICATION,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split rows into train and held-out test parts: stratified by class, or shuffled
    for a regression.

    Args:
        features: One row per example.
        target: The target of each row.
        test_size: Fraction of rows held out; 0 keeps every row for training
            (the tutorial's setup) and leaves the test part empty.
        random_state: Seed of the shuffle.
        task: ``classification`` or ``regression``.

    Returns:
        ``X_train``, ``X_test``, ``y_train``, ``y_test``.

    Raises:
        DataError: If the test part would be too small to hold a row of
            every class, or the training part too small to surely keep
            ``TRAIN_ROWS`` rows of every class (of a regression: to make two
            folds of ``TRAIN_ROWS``); the message gives the test sizes that work.
    """
    classes = task == CLASSIFICATION
    if test_size == 0:
        x_train, x_test, y_train, y_test = features, features.iloc[:0], target, target.iloc[:0]
    else:
        problem = (
            _split_problem(target.value_counts().to_numpy(), test_size)
            if classes
            else _rows_problem(len(target), test_size)
        )
        if problem:
            raise DataError(problem, settings=["test_size"])
        x_train, x_test, y_train, y_test = train_test_split(
            features,
            target,
            test_size=test_size,
            stratify=target if classes else None,
            random_state=random_state,
        )
    return x_train, x_test, y_train, y_test


def _rows_problem(rows: int, test_size: float) -> str | None:
    """Why holding out ``test_size`` of ``rows`` leaves a regression too few rows to train on."""
    held_out = math.ceil(test_size * rows)  # as train_test_split counts
    fewest = 2 * TRAIN_ROWS  # two folds of TRAIN_ROWS rows
    if rows - held_out >= fewest:
        return None
    if rows <= fewest:
        allowed = "set test_size to 0 for no held-out part, or add rows."
    else:
        allowed = f"set test_size to at most {math.floor((rows - fewest) / rows * 100) / 100:g}."
    return (
        f"test_size = {test_size} holds out {held_out} of {rows} rows and leaves "
        f"{rows - held_out} for training, fewer than the {fewest} cross-validation needs "
        f"(two folds of {TRAIN_ROWS}); {allowed}"
    )


def take_input_example(x_train: pd.DataFrame, roles: dict[str, Any]) -> pd.DataFrame:
    """A few training rows as the models take them: the columns they read, raw, with
    their missing values.

    MLflow logs them beside each model, as its input example and the signature
    (``mlflow_run.signature``) that takes the same raw rows as ``predict``:
    - the columns the models read, and no other: a left-out column (an identifier,
      R's row numbers) is not asked for, and a row that has it passes;
    - whole-number columns (integers, or floats whose training values are all whole,
      e.g. a count with blanks) as pandas' nullable ``Int64``: a new row's count may
      be blank, or complete, and so read as float or as integer;
    - other float columns as float64, as new rows come (``load_dataset`` made them
      float32 for training).
    """
    example = x_train[used_columns(roles)].head(INPUT_EXAMPLE_ROWS)
    whole = [c for c in example.columns if whole_numbers(x_train[c])]
    narrow = [c for c in example.columns if example[c].dtype == np.float32 and c not in whole]
    return example.astype({**dict.fromkeys(narrow, np.float64), **dict.fromkeys(whole, "Int64")})


def make_cv_splits(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    y_train: pd.Series,
    classes: list,
    cv_folds: int,
    cv_shuffle: bool,
    random_state: int,
    cv_repeats: int = 1,
    task: str = CLASSIFICATION,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The k-fold splits that every model is cross-validated on: stratified by class, or
    plain (shuffled and seeded alike) for a regression (``tasks.folds``).

    Computed once and shared, so that all models see exactly the same folds
    and their per-fold scores can be compared pairwise.

    Args:
        y_train: The training part's target.
        classes: The class names, by code (for messages).
        cv_folds: Number of folds, k.
        cv_shuffle: Shuffle rows before folding (seeded); ``false`` gives the
            contiguous folds of ``cross_val_score(cv=k)``, as in the tutorial.
        random_state: Seed of the shuffle.
        cv_repeats: How many times k-fold CV is run, each time on another seeded
            shuffle (repeated k-fold; ``cv_shuffle`` must be on).
        task: ``classification`` or ``regression``.

    Returns:
        One ``(train_positions, validation_positions)`` pair per fold (int32): the k
        folds of the first repeat, then of the next.

    Raises:
        DataError: If a class has fewer training rows than ``cv_folds``, so that some
            fold would have no example of it; of a regression, if a fold would have
            fewer than ``TRAIN_ROWS`` rows.
    """
    if task == REGRESSION:
        if len(y_train) < TRAIN_ROWS * cv_folds:
            raise DataError(
                f"cv_folds = {cv_folds} needs at least {TRAIN_ROWS * cv_folds} training rows "
                f"({TRAIN_ROWS} in each fold), and there are {len(y_train)}; set cv_folds to "
                f"at most {max(len(y_train) // TRAIN_ROWS, 2)}, lower test_size, or add rows.",
                settings=["cv_folds"],
            )
    else:
        counts = y_train.value_counts()
        smallest = counts.min() if len(y_train) else 0
        if smallest < cv_folds:
            raise DataError(
                f"cv_folds = {cv_folds} is more than the {smallest} training rows of the "
                f"smallest class, {classes[counts.idxmin()]!r}; set cv_folds to at most "
                f"{smallest}, lower test_size, or add rows of that class.",
                settings=["cv_folds"],
            )
    splitter = folds(task, cv_folds, cv_shuffle, random_state, cv_repeats)
    # int32 positions, not scikit-learn's int64: every training node maps them (at 1e6 rows
    # and 3 folds, 19 MB of int64).
    kind = np.int32 if len(y_train) <= np.iinfo(np.int32).max else np.int64
    split = splitter.split(np.zeros((len(y_train), 1)), y_train)
    return [(fit.astype(kind), valid.astype(kind)) for fit, valid in split]


def choose_yardstick(
    metric: str,
    positive_class: Any,
    classes: list,
    y_train: pd.Series,
    task: str = CLASSIFICATION,
) -> dict[str, Any]:
    """What the models are judged by: the metric, its direction, and the classes it reads.

    Args:
        metric: The ``metric`` parameter (``auto``: accuracy, or RMSE for a regression).
        positive_class: The class F1, precision and recall are of, on a two-class
            table; ``None``: the rarer class of the training rows (the second, in
            the classes' order, when both are as many).
        classes: The class names, by code (none for a regression).
        y_train: The training rows' target.
        task: ``classification`` or ``regression``.

    Returns:
        ``task``, ``metric`` (its name), ``chosen`` (whether the user named it),
        ``greater_is_better``, ``classes`` (how many; 0 for a regression), ``positive``
        (the positive class's code, two classes only), ``positive_class`` (its name),
        ``majority`` (the most frequent class of the training rows, which the
        baseline always guesses) and ``guess`` (what the baseline guesses, in words:
        that class, or the training rows' mean).

    Raises:
        DataError: A metric of the other task; a ``positive_class`` that is not a class
            of the table, or set on a table of more than two classes, or a regression.
    """
    if metric != AUTO and chosen(metric).task != task:
        raise DataError(
            f"metric = {metric} is a {chosen(metric).task} metric, and this run's task is "
            f"{task}: set metric to auto ({DEFAULT[task]}) or one of "
            f"{', '.join(names(task))}, or set task.",
            settings=["metric", "task"],
        )
    yardstick = chosen(metric, task)
    judged = {
        "task": task,
        "metric": yardstick.name,
        "chosen": metric != AUTO,
        "greater_is_better": yardstick.greater_is_better,
    }
    if task == REGRESSION:
        if positive_class is not None:
            raise DataError(
                f"positive_class = {positive_class!r}: this run regresses a number; a "
                "positive class is for two classes. Set positive_class to null.",
                settings=["positive_class"],
            )
        mean = float(y_train.mean())
        return judged | {
            "classes": 0,
            "positive": None,
            "positive_class": None,
            "majority": None,
            "guess": "the mean ("
            + np.format_float_positional(
                mean, precision=4, unique=False, fractional=False, trim="-"
            )
            + ")",
        }
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
    majority = classes[int(np.argmax(counts))]
    return judged | {
        "classes": len(classes),
        "positive": positive,
        "positive_class": None if positive is None else classes[positive],
        "majority": majority,
        "guess": repr(majority),
    }
