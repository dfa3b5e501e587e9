"""Where a user's table comes from: the catalog entry that loads it (``raw_data`` or
``new_rows``), any dataset that gives a pandas DataFrame (a CSV, Parquet or Excel file,
a SQL table or query), recorded without its credentials, its rows numbered as its user
sees them, and its content fingerprinted.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

EXAMPLES = 3  # rows quoted in a message

# How a source numbers its rows for its user: (word, number of the first data row).
LINES = ("line", 2)  # a text file: line 1 is the header
SHEET_ROWS = ("row", 2)  # a spreadsheet: row 1 is the header
ROWS = ("row", 1)  # a table or a query's result: the first row read is row 1
NUMBERING = {
    "parallel_trees.datasets.CSVTableDataset": LINES,
    "pandas.CSVDataset": LINES,
    "pandas.ExcelDataset": SHEET_ROWS,
}
# What a dataset's description says it reads, as metrics.json records it (in this order).
READS = {"filepath": "path", "table_name": "table", "sql": "query"}
QUERY_SHOWN = 60  # characters of a query quoted in a message


@dataclass(frozen=True)
class Table:
    """A user's table as loaded, and its ``source`` (``describe``, with its ``sha256``)."""

    data: pd.DataFrame
    source: dict[str, str]


def type_name(dataset: Any) -> str:
    """A dataset's type as a catalog declares it: ``pandas.ParquetDataset`` for
    kedro-datasets' (and Kedro's own, ``MemoryDataset``), else its module and class."""
    cls = type(dataset)
    module = cls.__module__
    if module.startswith("kedro_datasets."):
        return f"{module.split('.')[1]}.{cls.__name__}"
    if module.startswith("kedro."):
        return cls.__name__
    return f"{module}.{cls.__name__}"


def describe(
    entry: str, kind: str, description: dict[str, Any], database: str | None = None
) -> dict[str, str]:
    """What a source reads, from its dataset's description: the catalog ``entry``, its
    type (``kind``), its ``path``, ``table`` or ``query``, and the ``database`` of a SQL
    dataset (its URL without user, password or options: ``kedro_internals.connection``).

    Credentials are never part of it: a dataset's description leaves them out, and
    only the keys of ``READS`` are taken from it.
    """
    source = {"entry": entry, "type": kind}
    protocol = description.get("protocol")
    for key, name in READS.items():
        value = description.get(key)
        if value is None or str(value) == "None":  # SQLQueryDataset describes a missing one so
            continue
        remote = protocol and protocol != "file" and key == "filepath"
        source[name] = f"{protocol}://{value}" if remote else str(value)
        break
    return source | ({"database": database} if database else {})


def fingerprint(frame: pd.DataFrame) -> str:
    """A SHA-256 of a table's content: its column names and every value, in order.

    Not of its types' names: the same rows read from a CSV file and from a database
    (where a text column may come back as another string type, true/false as 0/1)
    give the same fingerprint. A value of another kind (1 and 1.0, 1 and "1") does not.
    """
    digest = hashlib.sha256()
    digest.update(repr([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def where(source: dict[str, str]) -> str:
    """The source in a message: ``raw_data (data/01_raw/x.csv)``, ``raw_data (table 'x')``,
    ``raw_data (query 'SELECT ...')``; a built-in dataset (no source) is "the dataset"."""
    if not source:
        return "the dataset"
    if "path" in source:
        return f"{source['entry']} ({source['path']})"
    if "table" in source:
        return f"{source['entry']} (table {source['table']!r})"
    if "query" in source:
        query = " ".join(source["query"].split())
        shown = query if len(query) <= QUERY_SHOWN else query[: QUERY_SHOWN - 3] + "..."
        return f"{source['entry']} (query {shown!r})"
    return f"{source['entry']} ({source['type']})"


def title(source: dict[str, str]) -> str:
    """The source in a title: its file's name, its table's name, or its entry's query."""
    if "path" in source:
        return source["path"].rstrip("/").rsplit("/", 1)[-1]
    if "table" in source:
        return source["table"]
    return f"{source['entry']}'s query" if "query" in source else source["entry"]


def rows(source: dict[str, str], positions: Sequence[int]) -> str:
    """The first ``EXAMPLES`` of the rows at ``positions`` (0: the first row read), as the
    source's user finds them: ``lines 3, 5, ...`` of a CSV file, ``row 4`` of a
    spreadsheet or a table."""
    word, first = NUMBERING.get(source.get("type", ""), ROWS)
    shown = ", ".join(str(int(p) + first) for p in positions[:EXAMPLES])
    more = ", ..." if len(positions) > EXAMPLES else ""
    return f"{word}{'s' if len(positions) > 1 else ''} {shown}{more}"


def rows_where(source: dict[str, str], mask: pd.Series) -> str:
    """``rows`` of the rows where ``mask`` holds, by their index in the table as read
    (kept when rows are dropped)."""
    return rows(source, mask.index[mask.to_numpy()])
