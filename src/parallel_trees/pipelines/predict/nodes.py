"""Predict new rows with a trained model: its class name and each class's probability, or
the number of a regression."""

import logging

import numpy as np
import pandas as pd

from parallel_trees.datasets import TrainedModel
from parallel_trees.errors import DataError
from parallel_trees.preprocessing import first_text, used_columns
from parallel_trees.sources import Table, rows, where

logger = logging.getLogger(__name__)


def check_new_rows(table: Table, roles: dict) -> None:
    """Refuse new rows the model cannot read, naming what to change.

    Raises:
        DataError: No rows; a column the model reads is missing; text in a
            column that was numeric in training (its line and value).
    """
    data, name = table.data, where(table.source)
    if data.empty:
        raise DataError(f"{name} has a header row but no data rows: nothing to predict.")
    missing = [c for c in used_columns(roles) if c not in data.columns]
    if missing:
        raise DataError(
            f"{name} lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}, which the model reads. It needs: "
            f"{', '.join(used_columns(roles))}."
        )
    for column in roles["numeric"]:
        values = data[column]
        first = first_text(values)
        if first is None:
            continue
        raise DataError(
            f"{name}: column '{column}' was numeric in training, but {rows(table.source, [first])} "
            f"holds {values.iloc[first]!r}. Fix that value, or leave it empty."
        )


def predict_new_rows(new_rows: Table, trained_model: TrainedModel) -> pd.DataFrame:
    """The class (or number) of each new row, by the trained model, beside the row's columns.

    Columns the model does not read (the label column among them) are kept in
    the output and ignored, with a note.

    Args:
        new_rows: The rows to classify, with the columns the model was trained on.
        trained_model: The model and the record of its training run.

    Returns:
        The input's columns, then ``prediction`` (the class name) and one
        ``probability_<class>`` column per class; of a regression, ``prediction``
        (the number) alone.

    Raises:
        DataError: If ``check_new_rows`` refuses the rows.
    """
    roles, classes = trained_model.run["feature_roles"], trained_model.run["classes"]
    check_new_rows(new_rows, roles)
    rows = new_rows.data
    ignored = [str(c) for c in rows.columns if c not in used_columns(roles)]
    if ignored:
        logger.info("Ignored the columns the model does not read: %s", ", ".join(ignored))
    features = rows[used_columns(roles)]
    predicted = trained_model.model.predict(features)
    if not classes:  # a regression
        predicted = rows.assign(prediction=predicted)
    else:
        probabilities = trained_model.model.predict_proba(features)
        names = np.asarray(classes, dtype=object)
        predicted = rows.assign(prediction=names[predicted.astype(int)])
        for code, name in enumerate(classes):
            predicted[f"probability_{name}"] = probabilities[:, code]
    logger.info(
        "Predicted %d rows of %s with %s (%s) of the training run %s",
        len(rows),
        where(new_rows.source),
        trained_model.display_name,
        trained_model.name,
        trained_model.version,
    )
    return predicted
