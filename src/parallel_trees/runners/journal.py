"""Which node each process of a run is running, so that a process that dies can be named.

The run guard opens it, in the main process, and reads it when the run fails;
``hooks.journal.NodeJournalHooks`` writes it, in whichever process runs each
node. It keeps no state but files that any process of the machine finds from
the run id alone.
"""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path


class Journal:
    """The nodes of one run that are running now, each with its process id."""

    def __init__(self, run_id: str):
        # The temporary folder, not the project: a worker knows the run id
        # (Kedro gives it to every node hook), not where the project is.
        safe = re.sub(r"[^\w.-]", "_", run_id)
        self.folder = Path(tempfile.gettempdir()) / "parallel-trees-running" / safe

    def open(self) -> "Journal":
        """Start the run's journal (in its main process, before any node runs)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def start(self, node: str) -> None:
        """This process starts ``node``: noted if the run's journal is open on this machine.

        (Not on another machine, such as a Dask cluster's, nor after the run has ended.)
        """
        with contextlib.suppress(FileNotFoundError):
            (self.folder / node).write_text(str(os.getpid()))

    def finish(self, node: str) -> None:
        """``node`` has finished (or failed with an exception)."""
        (self.folder / node).unlink(missing_ok=True)

    def running(self) -> dict[str, int]:
        """The nodes started and not finished, with the pid of their process."""
        if not self.folder.is_dir():
            return {}
        return {entry.name: int(entry.read_text() or 0) for entry in self.folder.iterdir()}

    def remove(self) -> None:
        """The run is over: forget it (and the journals' folder, when no other run is on)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.folder.parent.rmdir()
