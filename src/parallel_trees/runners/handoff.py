"""The ParallelRunner's handoff: data one node hands to others, as one file each.

Each in-memory dataset of a parallel run becomes a ``SharedFileDataset``, one
file in a folder of this run (``shared_data``), which every worker maps
without a copy: nothing goes through a data manager process.
"""

from __future__ import annotations

import errno
import mmap
import os
import pickle
import shutil
import struct
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset

from parallel_trees.resources import alive

# A run's folder of shared data: parallel-trees-data-<pid of kedro run>-<unique hex id>.
SHARED_DATA = "parallel-trees-data"


def shared_data_root() -> Path:
    """Where runs keep their shared data: /dev/shm, which is memory, where it is large.

    Elsewhere the temporary folder, whose pages the system caches in memory
    too: macOS has no /dev/shm, and Docker gives a container one of 64 MB,
    too small for a large run's data (Linux makes it half the memory).
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        room = os.statvfs(shm)
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        if room.f_blocks * room.f_frsize >= memory / 4:
            return shm
    return Path(tempfile.gettempdir())


def shared_data_folder(pid: int | str, unique: str) -> Path:
    """The folder of shared data ``unique`` of the run whose main process is ``pid``.

    With ``unique`` "", the prefix of every folder of that run.
    """
    return shared_data_root() / f"{SHARED_DATA}-{pid}-{unique}"


def shared_data_folders(pid: int | str = "*") -> list[Path]:
    """The folders of shared data of the run whose main process is ``pid`` (default: every run)."""
    pattern = shared_data_folder(pid, "*")
    return sorted(pattern.parent.glob(pattern.name))


@contextmanager
def shared_data() -> Iterator[Path]:
    """A new folder for one run's shared data, deleted when the run ends, however it ends.

    The folders that runs killed before they could delete theirs (their
    process is gone) are deleted first.
    """
    for folder in shared_data_folders():
        pid = folder.name.split("-")[-2]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    folder = shared_data_folder(os.getpid(), uuid.uuid4().hex[:12])
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# SharedFileDataset's file: the pickle's length, the pickle, then each buffer's offset
# and length; buffers start on 64-byte boundaries, as numpy allocates its own arrays.
_HEADER = struct.Struct("<Q")
_ALIGN = 64


@dataclass(frozen=True)
class _Column:
    """A Series as ``SharedFileDataset`` keeps it: its one-column frame. pandas 3 pickles a
    Series's index twice, a frame's once (y_train: 18 MB for 12 at 1e6 rows)."""

    frame: pd.DataFrame


def _keep(data: Any) -> None:
    """Nothing: ``weakref.finalize`` keeps ``data`` alive until it calls this."""


def _no_room(path: Path, size: int) -> str:
    """What to do when the file system of the run's shared data is full."""
    room = shutil.disk_usage(path.parent)
    return (
        f"No room for the run's shared data: {path.name} needs {size / 1e6:,.1f} MB in "
        f"{path.parent.parent}, which has {room.free / 1e6:,.0f} MB free of "
        f"{room.total / 1e6:,.0f} MB. Free space there, or use fewer rows; "
        "--runner=SequentialRunner keeps the data in memory instead."
    )


class SharedFileDataset(AbstractDataset[Any, Any]):
    """Data handed between nodes through one file that every process maps, without a copy.

    ``save`` pickles the data (protocol 5) with its large buffers (numpy arrays,
    pandas columns) out of band, each written once into ``path``; ``load`` maps
    the file and unpickles the data around the mapped buffers, so arrays are
    read-only views of the same pages in every process that loads them (a
    loaded DataFrame or Series copies on write). Text, categories and other
    objects are pickled as usual.

    In memory for Kedro (``_EPHEMERAL``): it is the run's data, not a result.
    Releasing it deletes the file; its pages are freed once no process maps them.
    """

    _EPHEMERAL = True

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self.metadata = metadata

    def save(self, data: Any) -> None:
        if isinstance(data, pd.Series):
            data = _Column(data.to_frame(name=data.name))
        buffers: list[pickle.PickleBuffer] = []
        pickled = pickle.dumps(data, protocol=5, buffer_callback=buffers.append)
        views = [buffer.raw() for buffer in buffers]
        places = []  # (offset, length) of each buffer in the file
        end = _HEADER.size * (2 + 2 * len(views)) + len(pickled)
        for view in views:
            end += -end % _ALIGN
            places.append((end, view.nbytes))
            end += view.nbytes
        # Written beside, then renamed: no process ever maps a file half-written.
        partial = self._path.with_name(f"{self._path.name}.{os.getpid()}.partial")
        index = struct.pack(f"<{2 * len(places)}Q", *(n for place in places for n in place))
        try:
            with partial.open("wb") as file:
                file.write(_HEADER.pack(len(pickled)) + pickled + _HEADER.pack(len(views)))
                file.write(index)
                for (offset, _), view in zip(places, views, strict=True):
                    file.seek(offset)
                    file.write(view)
        except OSError as error:
            partial.unlink(missing_ok=True)
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise OSError(_no_room(self._path, end)) from error
        partial.replace(self._path)

    def load(self) -> Any:
        with self._path.open("rb") as file:
            view = memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
        (size,) = _HEADER.unpack_from(view)
        (count,) = _HEADER.unpack_from(view, _HEADER.size + size)
        places = struct.unpack_from(f"<{2 * count}Q", view, 2 * _HEADER.size + size)
        buffers = [view[at : at + n] for at, n in zip(places[::2], places[1::2], strict=True)]
        data = pickle.loads(view[_HEADER.size : _HEADER.size + size], buffers=buffers)
        if isinstance(data, _Column):
            data = data.frame.iloc[:, 0]
        if not isinstance(data, pd.DataFrame | pd.Series):
            return data
        # pandas writes into a frame's arrays in place when no other frame shares
        # them, and these are read-only: a view that keeps the loaded frame alive
        # makes pandas copy on write instead, as it does for any shared arrays.
        shared = data.copy(deep=False)
        weakref.finalize(shared, _keep, data)
        return shared

    def _release(self) -> None:
        self._path.unlink(missing_ok=True)

    def _exists(self) -> bool:
        return self._path.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
