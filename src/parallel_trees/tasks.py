"""What a run predicts: a class (classification) or a number (regression), and the folds
that fit each.

With ``task: auto`` the target column decides. Text or true/false values are classes.
Numbers are regressed when they are not all whole, or when there are more than
``MAX_CLASS_CODES`` distinct whole numbers: class codes (0, 1, 2 or a handful more) stay
classes, while counts, ages, hours and whole-unit prices run past that. A classifier
needs rows of every class in every fold, which 20 classes already strain on most tables.
"""

from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    BaseCrossValidator,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)

AUTO: Final = "auto"
CLASSIFICATION: Final = "classification"
REGRESSION: Final = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
# More distinct whole numbers than this in a target: a quantity, regressed (task: auto).
MAX_CLASS_CODES = 20


def infer_task(target: pd.Series, task: str) -> tuple[str, str]:
    """The task of a run whose target column is ``target``, and why, in a few words.

    Args:
        target: The target's values, without the missing ones.
        task: The ``task`` parameter: ``auto``, ``classification`` or ``regression``.

    Returns:
        ``classification`` or ``regression``, and why: what the values are (a phrase
        that follows the column's name), or "set by task". A ``regression`` set for a
        target that is not numeric is returned as it is: the caller refuses it, naming
        its column.
    """
    if task != AUTO:
        return task, "set by task"
    if pd.api.types.is_bool_dtype(target) or not pd.api.types.is_numeric_dtype(target):
        return CLASSIFICATION, "holds text or true/false values"
    values = target.to_numpy(dtype=float)
    fractional = values[values != np.round(values)]
    if fractional.size:
        return REGRESSION, f"holds numbers that are not whole (e.g. {fractional[0]:g})"
    distinct = len(np.unique(values))
    if distinct > MAX_CLASS_CODES:
        return (
            REGRESSION,
            f"holds {distinct} distinct whole numbers, more than {MAX_CLASS_CODES}",
        )
    return CLASSIFICATION, f"holds {distinct} distinct whole numbers: class codes"


def folds(
    task: str, k: int, shuffle: bool, random_state: int | None, repeats: int = 1
) -> BaseCrossValidator:
    """The k-fold splitter of a task: stratified by class for classification, plain for
    regression (shuffled, seeded, as the classes' are), repeated when ``repeats > 1``."""
    seed: dict[str, Any] = {"random_state": random_state if shuffle or repeats > 1 else None}
    if repeats > 1:
        repeated = RepeatedStratifiedKFold if task == CLASSIFICATION else RepeatedKFold
        return repeated(n_splits=k, n_repeats=repeats, **seed)
    plain = StratifiedKFold if task == CLASSIFICATION else KFold
    return plain(n_splits=k, shuffle=shuffle, **seed)
