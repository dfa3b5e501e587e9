"""Each model's preprocessing: the role of every column, and the steps that encode it.

Every model is a scikit-learn ``Pipeline``: a ``ColumnTransformer``, its columns as
one array, then the estimator, so that the encoders and imputers are fitted inside each CV fold,
on the training rows only, and the saved model predicts from raw rows.
"""

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, TargetEncoder
from sklearn.utils import get_tags

ROLES = ("numeric", "categorical", "excluded")
# A categorical column with more levels than this is target-encoded (a column
# per class, the class rates of each level, cross-fitted), not one-hot encoded:
# on 60,000 rows with a 1,000-level column, it was both the most accurate and
# among the fastest (benchmarks/encoders.py, figures in docs/performance.md).
MAX_ONE_HOT = 20
# Identifiers (``identifier``): the words of a name that say a column identifies rows,
# and the English words that end in "id" without saying so.
ID_WORDS = frozenset(
    {"id", "ids", "key", "index", "idx", "rownames", "rowname", "unnamed", "obs", "serial"}
    | {"case", "row", "idno", "idnum", "seqn", "seqno"}
)
NOT_ID = frozenset(
    {"acid", "humid", "liquid", "paid", "aid", "said", "valid", "solid", "fluid", "rapid"}
    | {"lipid", "hybrid", "avoid", "void", "covid", "medicaid"}
)
# The share of different values that makes an identifier: of a column named like one
# (of its values), of a text column (of its rows).
NAMED_DIFFERENT = 0.5
MOSTLY_DIFFERENT = 0.9


def inferred_role(column: pd.Series) -> tuple[str, str | None]:
    """A column's role from its values (and name), and why, when it is excluded.

    - excluded: all empty; a single value (constant); an identifier in all but
      name (``identifier``);
    - numeric: numbers (a measurement may differ on every row: an income, a year);
    - categorical: text, bool, or pandas ``category``.
    """
    values = column.dropna()
    if values.empty:
        return "excluded", "empty on every row"
    if column.nunique(dropna=False) == 1:
        return "excluded", f"the same value on every row ({values.tolist()[0]!r})"
    why = identifier(column)
    if why:
        return "excluded", f"{why}; to use it, set its role in column_roles"
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    return ("numeric" if numeric else "categorical"), None


def identifier(column: pd.Series) -> str | None:
    """Why a column is an identifier rather than something a model can learn from, if it is.

    - named like one (``identifier_name``: ID, PatientID, key, Unnamed: 0, ...), of
      whole numbers or text, and at least half its values different (a patient's ID
      over repeated visits has fewer, and stays: it may say who, and it says so once);
    - text with a different value on nearly every row (``MOSTLY_DIFFERENT``): names,
      titles, dates, free text; a value seen once cannot be learned from.

    Numbers that merely differ on every row stay: those are mostly measurements
    (incomes, populations, prices, years). Measured on 1,508 R tables
    (``benchmarks/identifiers.py``): of 586 columns that the earlier rule (integers or
    text, every value different) left out, 301 were such measurements; this one left
    out 342 columns, none a measurement on review, and kept 66 identifiers whose names
    do not say so (set their role to excluded).
    """
    values = column.dropna()
    text = pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)
    named = identifier_name(column.name)
    if not (text or named):  # most columns: a measurement, named as such
        return None
    distinct = values.nunique()
    if named and (text or whole_numbers(column)) and distinct >= NAMED_DIFFERENT * len(values):
        return f"named like an identifier, with {distinct} values in {len(values)} training rows"
    if text and distinct >= MOSTLY_DIFFERENT * len(column):
        every = "every" if distinct == len(column) else "nearly every"
        return f"text with a different value on {every} row (an identifier, a name, free text)"
    return None


def whole_numbers(column: pd.Series) -> bool:
    """Whether a column holds integers, or floats that are all whole numbers (NaN aside: a
    count with blanks, as a CSV file gives it)."""
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return False
    if pd.api.types.is_integer_dtype(column):
        return True
    present = column.dropna().to_numpy()
    return present.size > 0 and bool(np.all(present == np.round(present)))


def identifier_name(name: object) -> bool:
    """Whether a column's name says it identifies rows: one of its words (split at
    separators and camelCase) is in ``ID_WORDS``, or ends in "id" (PatientID, USUBJID,
    pid) and is not an English word that does (``NOT_ID``: fluid, paid, ...)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name)).lower()
    words = re.split(r"[^a-z0-9]+", spaced)
    return any(w in ID_WORDS or (w.endswith("id") and w not in NOT_ID) for w in words)


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
    # The estimator gets the columns as one array, as the transformer's own array output
    # gives them, without names; but that output copies every column into a new array, for
    # each fit and prediction (41 MB a fold at 1e6 rows of 20 columns). As pandas, then an
    # array, columns of one dtype (float32 numbers, as load_dataset makes them) are not copied.
    as_array = FunctionTransformer(np.asarray)
    return Pipeline(
        [
            ("columns", columns.set_output(transform="pandas")),
            ("array", as_array),
            ("model", estimator),
        ]
    )


def first_text(values: pd.Series) -> int | None:
    """Where a column meant to be numeric first holds text: its position (``None``: every
    value is a number, or missing)."""
    if pd.api.types.is_numeric_dtype(values):
        return None
    text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
    return int(np.flatnonzero(text.to_numpy())[0]) if text.any() else None


def seen_levels(model: Pipeline) -> dict[str, np.ndarray]:
    """Each categorical column's levels in training, from a fitted model's encoders."""
    columns = model.named_steps["columns"]
    return {
        column: levels
        for name, encoder, names in columns.transformers_
        if name in ("categorical", "many_levels")
        for column, levels in zip(names, encoder.categories_, strict=True)
    }


def used_columns(roles: dict) -> list[str]:
    """The columns a model reads: the numeric ones, then the categorical ones."""
    return [*roles["numeric"], *roles["categorical"]]
