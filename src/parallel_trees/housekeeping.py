"""``kedro prune``: the newest versions of the runs' saved outputs kept, the rest removed.

A version is what one ``kedro run`` saved: a folder named by the run's start time
(``2026-11-29T14.50.12.016Z``) in the folder of each versioned dataset
(``data/08_reporting/metrics.json/<version>/metrics.json``).
"""

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kedro.io import AbstractVersionedDataset, CatalogProtocol

from parallel_trees.kedro_internals import versions_folder

# A Kedro save version: the run's start time in UTC, to the millisecond.
VERSION = re.compile(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z")
MB = 1_000_000


@dataclass(frozen=True)
class SavedVersion:
    """What one run saved: its folder in each dataset's folder, and their size in bytes."""

    name: str
    folders: tuple[Path, ...]
    size: int


def dataset_folders(catalog: CatalogProtocol, names: Iterable[str]) -> list[Path]:
    """The folders of the versioned datasets that ``names`` are in ``catalog``, on this
    machine (a dataset in ``s3://...`` is left out)."""
    folders = set()
    for name in names:
        dataset = catalog.get(name)
        if isinstance(dataset, AbstractVersionedDataset) and (folder := versions_folder(dataset)):
            folders.add(folder)
    return sorted(folders)


def saved_versions(folders: Iterable[Path]) -> list[SavedVersion]:
    """Every version saved in the datasets' ``folders``, oldest first.

    Only subfolders named as Kedro names versions count: nothing else there is removed.
    """
    found: dict[str, list[Path]] = {}
    for folder in folders:
        if folder.is_dir():
            for version in sorted(folder.iterdir()):
                if version.is_dir() and VERSION.fullmatch(version.name):
                    found.setdefault(version.name, []).append(version)
    return [
        SavedVersion(name, tuple(paths), sum(map(_size, paths)))
        for name, paths in sorted(found.items())
    ]


def to_remove(versions: list[SavedVersion], keep: int, protected: str | None) -> list[SavedVersion]:
    """``versions`` (oldest first) less the newest ``keep`` and the version ``protected``."""
    older = versions[: max(len(versions) - keep, 0)]
    return [version for version in older if version.name != protected]


def remove(version: SavedVersion) -> None:
    """Delete the version's folders (the datasets' folders stay, even when left empty)."""
    for folder in version.folders:
        shutil.rmtree(folder)


def megabytes(size: int) -> str:
    """``size`` bytes, in MB (10^6 bytes) to a tenth; in kB below a tenth of a MB."""
    return f"{size / MB:.1f} MB" if size >= MB / 10 else f"{size / 1000:.1f} kB"


def _size(folder: Path) -> int:
    """The bytes of the files in ``folder`` (symbolic links are not followed)."""
    return sum(
        os.lstat(os.path.join(parent, name)).st_size
        for parent, _, files in os.walk(folder)
        for name in files
    )
