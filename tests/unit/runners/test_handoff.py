"""The ParallelRunner's handoff: each dataset one file that every worker maps; a folder per run."""

import multiprocessing
import os
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from parallel_trees.hooks.run_guard import _explain
from parallel_trees.runners.handoff import (
    SharedFileDataset,
    shared_data,
    shared_data_folder,
    shared_data_folders,
    shared_data_root,
)
from tests.helpers.processes import dead_pid


def mapped_from(array: np.ndarray, path: Path) -> bool:
    """Whether ``array``'s data is in this process's mapping of the file ``path``."""
    address = array.__array_interface__["data"][0]
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *_, name = line.split(maxsplit=5)
        start, end = (int(x, 16) for x in span.split("-"))
        if name == str(path) and start <= address < end:
            return True
    return False


def load_in_another_process(path: Path) -> tuple[int, bool, float]:
    """Load ``path``'s features there: its pid, whether they are mapped from the file, a sum."""
    features = SharedFileDataset(str(path)).load()["features"]
    return os.getpid(), mapped_from(features, path), float(features.sum())


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
class TestSharedFile:
    def test_arrays_are_read_only_views_of_the_file_in_every_process(self, tmp_path):
        path = tmp_path / "split"
        features = np.arange(60_000, dtype=np.float64).reshape(3_000, 20)
        SharedFileDataset(str(path)).save({"features": features, "name": "x"})

        loaded = SharedFileDataset(str(path)).load()["features"]
        again = SharedFileDataset(str(path)).load()["features"]
        np.testing.assert_array_equal(loaded, features)
        assert mapped_from(loaded, path) and mapped_from(again, path)  # not copies
        assert not loaded.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            loaded[0, 0] = 1.0
        # Another process maps the same file (the same pages), whatever starts it.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pid, mapped, total = pool.submit(load_in_another_process, path).result()
        assert pid != os.getpid() and mapped and total == features.sum()

    def test_data_frames_keep_their_dtypes_text_categories_and_missing_values(self, tmp_path):
        frame = pd.DataFrame(
            {
                "length": [1.5, np.nan, 3.25],
                "count": np.array([1, 2, 3], dtype=np.int32),
                "island": ["Biscoe", None, "Dream"],
                "species": pd.Categorical(["a", "b", "a"]),
                "seen": [True, False, True],
            },
            index=[10, 20, 30],
        )
        dataset = SharedFileDataset(str(tmp_path / "table"))
        dataset.save(frame)
        loaded = dataset.load()
        pd.testing.assert_frame_equal(loaded, frame)
        # pandas copies on write: changing a loaded frame changes a copy, never the file.
        loaded.loc[10, "length"] = 0.0
        assert dataset.load().loc[10, "length"] == 1.5

    @pytest.mark.parametrize("name", ["target", None])
    def test_a_series_keeps_its_name_and_index_and_stores_the_index_once(self, tmp_path, name):
        rows = 100_000
        index = pd.Index(np.random.default_rng(0).permutation(rows))
        series = pd.Series(np.arange(rows) % 3, index=index, name=name)
        path = tmp_path / "y_train"
        SharedFileDataset(str(path)).save(series)
        loaded = SharedFileDataset(str(path)).load()
        pd.testing.assert_series_equal(loaded, series)
        assert mapped_from(loaded.to_numpy(), path) and mapped_from(loaded.index.to_numpy(), path)
        assert path.stat().st_size < 2.1 * rows * 8  # values and index, once each

    def test_plain_objects_and_empty_arrays_round_trip(self, tmp_path):
        data = {"classes": ["setosa", "virginica"], "folds": [(np.arange(3), np.arange(0))]}
        dataset = SharedFileDataset(str(tmp_path / "objects"))
        dataset.save(data)
        loaded = dataset.load()
        assert loaded["classes"] == data["classes"]
        np.testing.assert_array_equal(loaded["folds"][0][0], np.arange(3))
        assert loaded["folds"][0][1].size == 0

    def test_releasing_deletes_the_file_and_leaves_loaded_data_readable(self, tmp_path):
        path = tmp_path / "split"
        dataset = SharedFileDataset(str(path))
        dataset.save(np.ones(1_000))
        loaded = dataset.load()
        assert dataset.exists()
        dataset.release()
        assert not path.exists() and not dataset.exists()
        assert loaded.sum() == 1_000  # its pages stay until nothing maps them
        assert list(tmp_path.iterdir()) == []  # nor a half-written file left

    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (macOS)")
    def test_a_full_file_system_is_one_message_and_leaves_no_file(self, tmp_path):
        # The kernel's own "no space left on device": the file being written is /dev/full.
        folder = tmp_path / "parallel-trees-data-1-0123456789ab"
        folder.mkdir()
        (folder / f"X_train.{os.getpid()}.partial").symlink_to("/dev/full")
        catalog = DataCatalog({"X_train": SharedFileDataset(str(folder / "X_train"))})
        with pytest.raises(DatasetError) as error:
            catalog.save("X_train", np.ones((1_000, 20)))
        # What crosses from a worker: the message, not the cause (as test_run_guard's).
        explained = _explain(pickle.loads(pickle.dumps(error.value)), None, {})
        assert str(explained).startswith(
            f"No room for the run's shared data: X_train needs 0.2 MB in {tmp_path}, which has "
        )
        assert str(explained).endswith(
            "Free space there, or use fewer rows; --runner=SequentialRunner keeps the data in "
            "memory instead."
        )
        assert list(folder.iterdir()) == []  # neither the file nor a half-written one


class TestSharedData:
    def test_each_run_has_a_folder_of_its_own_deleted_when_it_ends(self):
        with shared_data() as first, shared_data() as second:
            assert first != second
            assert first.parent == second.parent == shared_data_root()
            assert shared_data_folders(os.getpid()) == sorted([first, second])
            (first / "X_train").write_bytes(b"data")
        assert not first.exists() and not second.exists()

    def test_the_folder_is_deleted_when_the_run_fails(self):
        with pytest.raises(KeyboardInterrupt), shared_data() as folder:
            (folder / "X_train").write_bytes(b"data")
            raise KeyboardInterrupt
        assert not folder.exists()

    def test_folders_of_runs_that_were_killed_are_swept_and_others_kept(self):
        killed = shared_data_folder(dead_pid(), "0123456789ab")
        running = shared_data_folder(os.getppid(), "0123456789ab")
        for folder in (killed, running):
            folder.mkdir()
            (folder / "X_train").write_bytes(b"data")
        try:
            with shared_data():
                assert not killed.exists()
                assert running.exists()
        finally:
            shutil.rmtree(killed, ignore_errors=True)
            shutil.rmtree(running, ignore_errors=True)
