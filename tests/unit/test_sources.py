"""Where a user's table comes from: its record, its name in messages, its rows' numbers."""

import pandas as pd
import pytest
from kedro.io import MemoryDataset
from kedro_datasets.pandas import ParquetDataset

from parallel_trees.datasets import CSVTableDataset
from parallel_trees.sources import describe, fingerprint, rows, rows_where, title, type_name, where

CSV = {"entry": "raw_data", "type": "pandas.CSVDataset", "path": "data/01_raw/p.csv"}
SHEET = {"entry": "raw_data", "type": "pandas.ExcelDataset", "path": "data/01_raw/p.xlsx"}
TABLE = {"entry": "raw_data", "type": "pandas.SQLTableDataset", "table": "penguins"}
QUERY = {"entry": "new_rows", "type": "pandas.SQLQueryDataset", "query": "SELECT *\n  FROM p"}


def test_a_type_is_named_as_the_catalog_declares_it():
    assert type_name(ParquetDataset(filepath="x.parquet")) == "pandas.ParquetDataset"
    assert type_name(MemoryDataset()) == "MemoryDataset"
    assert type_name(CSVTableDataset("x.csv")) == "parallel_trees.datasets.CSVTableDataset"


@pytest.mark.parametrize(
    ("description", "read"),
    [
        (
            {"filepath": "/d/p.parquet", "protocol": "file", "load_args": {}},
            {"path": "/d/p.parquet"},
        ),
        ({"filepath": "bucket/p.parquet", "protocol": "s3"}, {"path": "s3://bucket/p.parquet"}),
        ({"table_name": "penguins", "load_args": {"schema": "x"}}, {"table": "penguins"}),
        ({"sql": "SELECT 1", "filepath": "None", "load_args": "{}"}, {"query": "SELECT 1"}),
        ({"sql": "None", "filepath": "q.sql"}, {"path": "q.sql"}),  # a query in a file
        ({}, {}),
    ],
)
def test_a_source_records_its_path_table_or_query_and_nothing_else(description, read):
    assert describe("raw_data", "t", description) == {"entry": "raw_data", "type": "t", **read}


def test_a_sql_source_records_its_database_too():
    source = describe("raw_data", "t", {"table_name": "p"}, "sqlite:///data/p.db")
    assert source == {
        "entry": "raw_data",
        "type": "t",
        "table": "p",
        "database": "sqlite:///data/p.db",
    }


def test_the_fingerprint_follows_the_values_not_the_index_or_the_type_names():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert fingerprint(frame) == fingerprint(frame.set_axis([5, 9]))
    assert fingerprint(frame) != fingerprint(frame.iloc[::-1])  # rows in another order
    assert fingerprint(frame) != fingerprint(frame.rename(columns={"b": "c"}))
    assert fingerprint(frame) != fingerprint(frame.astype({"a": float}))  # 1.0 is not 1
    assert fingerprint(frame) == fingerprint(frame.astype({"b": "object"}))  # a text is a text


def test_a_source_is_named_by_its_entry_and_what_it_reads():
    assert where(CSV) == "raw_data (data/01_raw/p.csv)"
    assert where(TABLE) == "raw_data (table 'penguins')"
    assert where(QUERY) == "new_rows (query 'SELECT * FROM p')"
    long = QUERY | {"query": "SELECT " + ", ".join(f"c{i}" for i in range(40)) + " FROM p"}
    assert (
        where(long)
        == "new_rows (query 'SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, ...')"
    )
    assert where({}) == "the dataset"
    assert [title(s) for s in (CSV, TABLE, QUERY)] == ["p.csv", "penguins", "new_rows's query"]


def test_rows_are_numbered_as_their_user_finds_them():
    assert rows(CSV, [0]) == "line 2"  # line 1: the header
    assert rows(SHEET, [0, 3]) == "rows 2, 5"  # row 1: the header
    assert rows(TABLE, [0, 3, 4, 8]) == "rows 1, 4, 5, ..."
    assert rows({}, [6]) == "row 7"  # a built-in dataset's
    mask = pd.Series([False, True, False, True], index=[10, 11, 12, 13])  # rows dropped before
    assert rows_where(CSV, mask) == "lines 13, 15"
