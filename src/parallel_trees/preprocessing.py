"""Each model's preprocessing: the role of every column, and the steps that encode it.

Every model is a scikit-learn ``Pipeline``: a ``ColumnTransformer`` then the
estimator, so that the encoders and imputers are fitted inside each CV fold,
on the training rows only, and the saved model predicts from raw rows.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, TargetEncoder
from sklearn.utils import get_tags

ROLES = ("numeric", "categorical", "excluded")
# A categorical column with more levels than this is target-encoded (a column
# per class, the class rates of each level, cross-fitted), not one-hot encoded:
# on 60,000 rows with a 1,000-level column, it was both the most accurate and
# among the fastest (benchmarks/encoders.py, figures in the README).
MAX_ONE_HOT = 20


def inferred_role(column: pd.Series) -> tuple[str, str | None]:
    """A column's role from its values, and why, when it is excluded.

    - excluded: all empty; a single value (constant); or, for integers and
      text, a different value on every row (an identifier, e.g. a row number);
    - numeric: numbers (a measurement may differ on every row);
    - categorical: text, bool, or pandas ``category``.
    """
    values = column.dropna()
    if values.empty:
        return "excluded", "empty on every row"
    if column.nunique(dropna=False) == 1:
        return "excluded", f"the same value on every row ({values.tolist()[0]!r})"
    is_float = pd.api.types.is_float_dtype(column)
    if not is_float and len(column) > 1 and values.is_unique and len(values) == len(column):
        return "excluded", "a different value on every row (an identifier)"
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    return ("numeric" if numeric else "categorical"), None


def accepts_missing(estimator: BaseEstimator) -> bool:
    """Whether the estimator takes NaN as it is (scikit-learn's ``allow_nan`` tag)."""
    return get_tags(estimator).input_tags.allow_nan


def make_model(estimator: BaseEstimator, roles: dict, random_state: int) -> Pipeline:
    """The estimator behind the preprocessing of its columns.

    Numeric columns pass as they are, NaN included, to an estimator that
    accepts NaN; another gets the column's median instead. Categorical columns
    are one-hot encoded (a missing value is a level of its own), those with
    many levels target-encoded; a level unseen in training never fails: it
    gets no one-hot column, or the overall class rates (a regression's: the mean).

    Args:
        estimator: An unfitted scikit-learn-compatible classifier or regressor.
        roles: ``numeric``, ``categorical`` and ``many_levels`` column lists
            (``infer_column_roles``).
        random_state: Seed of the target encoder's folds.
    """
    numeric = "passthrough" if accepts_missing(estimator) else SimpleImputer(strategy="median")
    one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
    # A regressor's target is a number, even when it is whole (hours worked): scikit-learn
    # would take whole numbers for classes, and encode a column per "class".
    kind = "continuous" if is_regressor(estimator) else "auto"
    target = TargetEncoder(target_type=kind, cv=KFold(5, shuffle=True, random_state=random_state))
    few_levels = [c for c in roles["categorical"] if c not in roles["many_levels"]]
    steps = [
        ("numeric", numeric, roles["numeric"]),
        ("categorical", one_hot, few_levels),
        ("many_levels", target, roles["many_levels"]),
    ]
    columns = ColumnTransformer([step for step in steps if step[2]], remainder="drop")
    return Pipeline([("columns", columns), ("model", estimator)])


def first_text(values: pd.Series) -> int | None:
    """Where a column meant to be numeric first holds text: its position (``None``: every
    value is a number, or missing)."""
    if pd.api.types.is_numeric_dtype(values):
        return None
    text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
    return int(np.flatnonzero(text.to_numpy())[0]) if text.any() else None


def used_columns(roles: dict) -> list[str]:
    """The columns a model reads: the numeric ones, then the categorical ones."""
    return [*roles["numeric"], *roles["categorical"]]
