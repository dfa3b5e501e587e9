"""Imported by the forkserver of a local Dask cluster only (``preloaded_workers``).

The forkserver imported the project's libraries to fork the workers from: at
the end of the run, it exits without tearing them down, as its workers do.
Otherwise ``kedro run``'s output stays open until it has, long after the run.
"""

import atexit
import os

# Registered before the libraries' own handlers, so run after them.
atexit.register(os._exit, 0)
