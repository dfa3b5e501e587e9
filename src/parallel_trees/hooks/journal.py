"""Which node each process of a run is running, so that a process that dies can be named.

Kedro 1.7 configures the project in a ParallelRunner worker only when the
worker is started by fork: under spawn and forkserver (macOS's and Python
3.14's defaults) the project's hooks (``settings.HOOKS``) never run in a
worker. Plugins' hooks do, in every worker. So ``node_journal`` is registered
as a plugin's is, through the ``kedro.hooks`` entry point in pyproject.toml,
and keeps no state but files that any process finds from the run id alone.
"""

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node


class Journal:
    """The nodes of one run that are running now, each with its process id."""

    def __init__(self, run_id: str):
        # The temporary folder, not the project: a worker knows the run id
        # (Kedro gives it to every node hook), not where the project is.
        safe = re.sub(r"[^\w.-]", "_", run_id)
        self.folder = Path(tempfile.gettempdir()) / "parallel-trees-running" / safe

    def start(self, node: str) -> None:
        """This process starts ``node``."""
        self.folder.mkdir(parents=True, exist_ok=True)
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


class NodeJournalHooks:
    """Keep the run's ``Journal``, in whichever process runs each node."""

    @hook_impl
    def before_node_run(self, node: Node, run_id: str | None) -> None:
        """Note which process runs ``node``."""
        if run_id is not None:  # None: a node run on its own, outside a session
            Journal(run_id).start(node.name)

    @hook_impl
    def after_node_run(self, node: Node, run_id: str | None) -> None:
        """``node`` finished."""
        if run_id is not None:
            Journal(run_id).finish(node.name)

    @hook_impl
    def on_node_error(self, node: Node, run_id: str | None) -> None:
        """``node`` raised: it is not running any more (its error says why)."""
        if run_id is not None:
            Journal(run_id).finish(node.name)


# The instance the entry point registers (in the main process and in every worker).
node_journal = NodeJournalHooks()
