"""The project's own datasets: a user's CSV file, a user's table from any dataset,
the model of the last training run, and the run's tables and charts.

The first three are read-only. What they cannot read becomes a ``DataError`` that
names the source and what to change (the run guard shows it as one ``Error:`` line).
"""

import functools
import io
import json
import pickle
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version
from kedro_datasets.json import JSONDataset
from sklearn.pipeline import Pipeline

from parallel_trees.errors import DataError
from parallel_trees.kedro_internals import PlotlyPreview, TablePreview, connection, description
from parallel_trees.sources import Table, describe, fingerprint, type_name, where

# Separators a header row is searched for, in order of preference on a tie.
SEPARATORS = (",", ";", "\t", "|")
# The predict pipeline's run parameter: the latest complete training run.
LATEST = "latest"
# The training runs an unknown run parameter's message names, newest first.
RUNS_NAMED = 5
# Files that are not text, by their first bytes: what they are, and the catalog's type.
NOT_CSV = {
    b"PAR1": ("a Parquet file", "pandas.ParquetDataset"),
    b"PK\x03\x04": ("a zip archive, as an Excel .xlsx file is", "pandas.ExcelDataset"),
    b"\xd0\xcf\x11\xe0": ("an old Excel .xls file", "pandas.ExcelDataset"),
    b"SQLite format 3\x00": ("a SQLite database", "pandas.SQLTableDataset"),
}


def separator(header: str) -> str:
    """The separator of a CSV file: the one of ``SEPARATORS`` its header row holds most of.

    A header with none of them (a single column) is read with a comma.
    """
    return max(SEPARATORS, key=header.count)


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV file whose separator is a comma, semicolon, tab or bar.

    A semicolon-separated file is read with a decimal comma (``1,5``), as
    spreadsheets export it where the comma is the decimal mark.

    Raises:
        DataError: If the file is empty, a Parquet, Excel or SQLite file, or not a
            readable CSV file.
    """
    raw = Path(path).read_bytes()
    for magic, (kind, dataset) in NOT_CSV.items():
        if raw.startswith(magic):
            raise DataError(
                f"{path} is {kind}, not a CSV file: declare it in conf/local/catalog.yml as "
                f"{dataset} (README: Where your table lives)."
            )
    header = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if not header.strip():
        raise DataError(f"{path} is empty: it needs a header row naming the columns, then rows.")
    sep = separator(header)
    try:
        data = pd.read_csv(io.BytesIO(raw), sep=sep, decimal="," if sep == ";" else ".")
    except (ValueError, UnicodeDecodeError) as error:  # pandas' ParserError is a ValueError
        raise DataError(
            f"{path} could not be read as a CSV file: {str(error).strip()}. It must be a "
            "text file of comma- (or semicolon-, tab-, bar-) separated values with a header row."
        ) from error
    return data


class CSVTableDataset(AbstractDataset[None, pd.DataFrame]):
    """A user's CSV file, its separator found from its header row (``read_table``)."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = filepath
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return read_table(self._filepath)

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath} is the user's file: this project only reads it.")

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}


class UserTableDataset(AbstractDataset[None, Table]):
    """A user's table, the catalog entry ``entry`` (``raw_data``, ``new_rows``), whatever
    dataset reads it: loaded as a ``Table``, its rows numbered from 0, with its source.

    The run's input checks put it in place of the entry's dataset (``hooks.inputs``).
    What cannot be read, or is not one table, becomes a ``DataError`` that names the
    entry and what it reads; a dataset's description, and so this one's, holds no
    credentials.
    """

    def __init__(self, dataset: AbstractDataset, entry: str):
        self._dataset = dataset
        kind = type_name(dataset)
        self.source = describe(entry, kind, description(dataset), connection(dataset))

    def load(self) -> Table:
        try:
            data = self._dataset.load()
        except Exception as error:  # noqa: BLE001 - whatever a dataset raises is named
            raise self._failed(error) from error
        entry = self.source["entry"]
        if not isinstance(data, pd.DataFrame):
            sheets = " (an Excel file's sheets: set load_args' sheet_name to one)"
            raise DataError(
                f"{entry} ({self.source['type']}) gave a {type(data).__name__}, not a table: "
                f"point {entry} at a dataset that loads one pandas DataFrame"
                f"{sheets if isinstance(data, dict) else ''}."
            )
        if not data.index.equals(pd.RangeIndex(len(data))):  # an index_col's, a Parquet's
            data = data.reset_index(drop=True)
        return Table(data, {**self.source, "sha256": fingerprint(data)})

    def _failed(self, error: Exception) -> DataError:
        """The error a failed load becomes: the first line of its cause, after the source."""
        while isinstance(error, DatasetError) and isinstance(error.__cause__, Exception):
            error = error.__cause__  # Kedro's "Failed while loading data from dataset ..."
        if isinstance(error, DataError):  # the project's own CSV dataset's
            return DataError(f"{self.source['entry']}: {error}")
        reason = str(error).strip().partition("\n")[0] or type(error).__name__
        # pandas' "Execution failed on sql '<query>': ", SQLAlchemy's "(psycopg.errors.X) ":
        # the query is named already, the error's type says nothing to a user.
        reason = re.sub(r"^Execution failed on sql '.*': ", "", reason)
        reason = re.sub(r"^\([\w.]+\) ", "", reason).rstrip(".")
        return DataError(
            f"{where(self.source)} could not be read ({self.source['type']}): {reason}."
        )

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{self.source['entry']} is the user's table: this project only reads it."
        )

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return dict(self.source)


@dataclass(frozen=True)
class TrainedModel:
    """A model saved by a training run, with what a prediction needs to know of that run."""

    model: Pipeline
    name: str
    display_name: str
    version: str
    run: dict[str, Any]  # metrics.json's run: classes, target_column, feature_roles...


def training_runs(metrics: Path) -> list[str]:
    """The versions of the complete training runs, oldest first: those that saved
    ``metrics`` (a versioned ``metrics.json``; a failed run keeps nothing)."""
    return sorted(path.parent.name for path in metrics.glob(f"*/{metrics.name}"))


class TrainedModelDataset(AbstractDataset[None, TrainedModel]):
    """The model ``model`` of the training run ``run``, read from its saved files.

    ``run`` is a training run's version (its folder name under ``metrics``), or
    ``latest``: the latest complete run, whose ``metrics.json`` is the latest (a
    failed run keeps nothing). ``best`` is the model that run chose (its ``best``).
    The model is read from the same version, so model and record always match.
    """

    def __init__(
        self,
        metrics: str,
        models: str,
        model: str = "best",
        run: str = LATEST,
        metadata: dict[str, Any] | None = None,
    ):
        self._metrics = Path(metrics)
        self._models = Path(models)
        self._model = model
        self._run = run
        self.metadata = metadata

    def _version(self) -> str:
        runs = training_runs(self._metrics)
        if not runs:
            raise DataError(
                f"No training run yet: {self._metrics} has no version. Train the models "
                "first (kedro run), then predict."
            )
        if self._run == LATEST:
            return runs[-1]
        if self._run not in runs:
            latest = ", ".join(reversed(runs[-RUNS_NAMED:]))
            raise DataError(
                f"run = {self._run!r} is not a complete training run: none saved "
                f"{self._metrics}/{self._run}. The latest: {latest} (or run=latest)."
            )
        return self._run

    def load(self) -> TrainedModel:
        version = self._version()
        metrics = json.loads((self._metrics / version / self._metrics.name).read_text())
        best = metrics.get("best") or metrics["ranking"][0]["model"]  # before the baseline came
        name = best if self._model == "best" else self._model
        if name not in metrics["models"]:
            raise DataError(
                f"model = {name!r}: the training run {version} trained "
                f"{', '.join(metrics['models'])}; set model to one of them, or to best."
            )
        path = self._models / f"{name}.pkl" / version / f"{name}.pkl"
        if not path.is_file():
            raise DataError(f"The training run {version} saved no {path}: train again.")
        with path.open("rb") as file:
            model = pickle.load(file)  # this project's own file (see the catalog's note)
        display_name = metrics["models"][name]["display_name"]
        return TrainedModel(model, name, display_name, version, metrics["run"])

    def save(self, data: None) -> None:
        raise DatasetError("The trained models are saved by a training run (kedro run).")

    def _exists(self) -> bool:
        return bool(training_runs(self._metrics))

    def _describe(self) -> dict[str, Any]:
        return {
            "metrics": str(self._metrics),
            "models": str(self._models),
            "model": self._model,
            "run": self._run,
        }


@functools.cache
def plotly_template() -> dict[str, Any]:
    """Plotly's default template ("plotly"), which ``go.Figure`` gives every figure."""
    return json.loads(pkgutil.get_data("plotly", "package_data/templates/plotly.json") or b"{}")


class FigureDataset(JSONDataset):
    """A plotly figure given as a plain dict, saved as ``go.Figure`` saves it.

    A figure is ``{"data": [traces], "layout": {...}}``, as ``go.Figure.to_plotly_json()``
    gives it; it is written with plotly's default template, as ``go.Figure`` writes it,
    without building (and validating) a ``go.Figure`` (see the reporting nodes). It
    loads as a ``go.Figure``, and kedro-viz previews it as a chart, as it does
    kedro-datasets' ``plotly.JSONDataset``: that one's package imports plotly.express
    (0.2 s, in every process that reads the catalog).
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {}  # compact, as go.Figure writes it

    def save(self, data: dict[str, Any]) -> None:
        layout = {**data.get("layout", {}), "template": plotly_template()}
        super().save({**data, "layout": layout})

    def load(self) -> Any:  # a plotly.graph_objects.Figure
        # Imported here: only a reader of the chart pays for plotly's figures.
        import plotly.graph_objects as go  # noqa: PLC0415

        return go.Figure(super().load())

    def preview(self) -> PlotlyPreview:
        """The figure as kedro-viz draws it."""
        return PlotlyPreview(super().load())


class LocalCSVDataset(AbstractVersionedDataset[pd.DataFrame, pd.DataFrame]):
    """A table of the run in a CSV file of this machine, versioned: kedro-datasets'
    ``pandas.CSVDataset`` (the same ``load_args``, ``save_args`` and table preview).

    kedro-datasets' ``pandas`` package imports every one of its datasets, SQLAlchemy
    for its SQL ones among them: 0.15-0.35 s in the main process of every run (and in
    every spawned worker), for one CSV file.
    """

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        super().__init__(filepath=PurePosixPath(filepath), version=version)
        self._load_args = load_args or {}
        self._save_args = {"index": False, **(save_args or {})}  # pandas.CSVDataset's default
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._get_load_path(), **self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        data.to_csv(path, **self._save_args)

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).is_file()
        except DatasetError:  # no version saved yet
            return False

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }

    def preview(self, nrows: int = 5) -> TablePreview:
        """The first ``nrows`` rows, as kedro-viz shows a table."""
        rows = pd.read_csv(self._get_load_path(), **{**self._load_args, "nrows": nrows})
        return TablePreview(rows.to_dict(orient="split"))
