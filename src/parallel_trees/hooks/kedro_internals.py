"""The private Kedro API this project uses, in one place (written against Kedro 1.7).

Kedro has no public way to do either; an upgrade that changes them breaks
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
