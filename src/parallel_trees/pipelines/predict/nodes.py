"""Predict new rows with a trained model: its class name and each class's probability, or
the number of a regression; and the record of what made them."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from parallel_trees.datasets import TrainedModel
from parallel_trees.errors import DataError
from parallel_trees.preprocessing import first_text, seen_levels, used_columns
from parallel_trees.sources import EXAMPLES, Table, rows, where

logger = logging.getLogger(__name__)


def made_by(trained_model: TrainedModel) -> str:
    """Which model of which training run, trained on which table (for messages)."""
    run = trained_model.run
    table = where(run["data_source"]) if run.get("data_source") else f"the {run['dataset']} dataset"
    return (
        f"{trained_model.display_name} ({trained_model.name}) of the training run "
        f"{trained_model.version}, trained on {table}"
    )


def check_new_rows(table: Table, trained_model: TrainedModel) -> None:
    """Refuse new rows the model cannot read, naming what to change, and the model.

    Raises:
        DataError: No rows; a column the model reads is missing; text in a
            column that was numeric in training (its line and value).
    """
    data, name, roles = table.data, where(table.source), trained_model.run["feature_roles"]
    model = f"The model is {made_by(trained_model)}"
    if data.empty:
        raise DataError(f"{name} has a header row but no data rows: nothing to predict.")
    missing = [c for c in used_columns(roles) if c not in data.columns]
    if missing:
        raise DataError(
            f"{name} lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}, which the model reads. It needs: "
            f"{', '.join(used_columns(roles))}. {model}; --params run=<version> predicts "
            "with another training run."
        )
    for column in roles["numeric"]:
        values = data[column]
        first = first_text(values)
        if first is None:
            continue
        raise DataError(
            f"{name}: column '{column}' was numeric in training, but {rows(table.source, [first])} "
            f"holds {values.iloc[first]!r}. Fix that value, or leave it empty. {model}."
        )


def unseen_values(table: Table, trained_model: TrainedModel) -> dict[str, dict[str, Any]]:
    """Per categorical column, the values its model never saw in training (blanks aside):
    how many, in how many rows, the first few, and the line that says so."""
    found = {}
    for column, levels in seen_levels(trained_model.model).items():
        values = table.data[column]
        unseen = values.notna() & ~values.isin(levels)
        if not unseen.any():
            continue
        distinct, count = values[unseen].unique().tolist(), int(unseen.sum())
        more = f" and {len(distinct) - EXAMPLES} more" if len(distinct) > EXAMPLES else ""
        line = (
            f"Column '{column}' of {where(table.source)}: {len(distinct)} value"
            f"{'s' if len(distinct) > 1 else ''} unseen in training, in {count} "
            f"row{'s' if count > 1 else ''}: {', '.join(map(repr, distinct[:EXAMPLES]))}{more}"
        )
        found[str(column)] = {
            "values": len(distinct),
            "rows": count,
            "examples": [str(v) for v in distinct[:EXAMPLES]],
            "line": line,
        }
    return found


def predict_new_rows(
    new_rows: Table, trained_model: TrainedModel
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The class (or number) of each new row, by the trained model, beside the row's columns.

    Columns the model does not read (the label column among them) are kept in
    the output and ignored, with a note. A categorical column's values unseen in
    training are predicted as such (``preprocessing.make_model``), with a line each.

    Args:
        new_rows: The rows to classify, with the columns the model was trained on.
        trained_model: The model and the record of its training run.

    Returns:
        The predictions: the input's columns, then ``prediction`` (the class name)
        and one ``probability_<class>`` column per class; of a regression,
        ``prediction`` (the number) alone. And their record: the training run and
        model that made them, the table it was trained on, the new rows' source,
        and the unseen values by column.

    Raises:
        DataError: If ``check_new_rows`` refuses the rows.
    """
    roles, classes = trained_model.run["feature_roles"], trained_model.run["classes"]
    check_new_rows(new_rows, trained_model)
    data = new_rows.data
    ignored = [str(c) for c in data.columns if c not in used_columns(roles)]
    if ignored:
        logger.info("Ignored the columns the model does not read: %s", ", ".join(ignored))
    unseen = unseen_values(new_rows, trained_model)
    for found in unseen.values():
        logger.info("%s", found["line"])
    features = data[used_columns(roles)]
    predicted = trained_model.model.predict(features)
    if not classes:  # a regression
        predicted = data.assign(prediction=predicted)
    else:
        probabilities = trained_model.model.predict_proba(features)
        names = np.asarray(classes, dtype=object)
        predicted = data.assign(prediction=names[predicted.astype(int)])
        for code, name in enumerate(classes):
            predicted[f"probability_{name}"] = probabilities[:, code]
    logger.info(
        "Predicted %d rows of %s with %s", len(data), where(new_rows.source), made_by(trained_model)
    )
    run = trained_model.run
    record = {
        "training_run": trained_model.version,
        "model": trained_model.name,
        "display_name": trained_model.display_name,
        "trained_on": run.get("data_source") or {"dataset": run["dataset"]},
        "new_rows": new_rows.source,
        "rows": len(data),
        "unseen": unseen,
    }
    return predicted, record
