"""The private Kedro API this project uses, in one place (written against Kedro 1.7).

Kedro has no public way to do any of these; an upgrade that changes them breaks
``tests/hooks/test_kedro_internals.py``, not a run.
"""

from pathlib import Path

from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError


def saved_path(dataset: AbstractVersionedDataset) -> Path | None:
    """Where ``dataset`` saves this run's version; ``None`` if it has no save version."""
    try:
        return Path(dataset._get_versioned_path(dataset.resolve_save_version()))
    except DatasetError:
        return None


def filepath(dataset: AbstractDataset) -> str | None:
    """The file a file-based dataset reads and writes, as its ``repr`` shows it."""
    return dataset._describe().get("filepath")


def own_dataset_message(error: DatasetError) -> str | None:
    """What a dataset of ``parallel_trees.datasets`` said when it failed to load, else ``None``.

    Kedro 1.7 wraps it as ``<name>: Failed while loading data from dataset
    <repr>.\n<message>``; that text is all that crosses ParallelRunner's
    processes (the original exception, the ``__cause__``, does not).
    """
    first, _, message = str(error).partition("\n")
    own = " from dataset parallel_trees.datasets." in first
    return message if own and message else None
