"""Hooks the benchmark adds to its own copy of the project (never to the project).

They log how long each dataset load and save took, in the process that did it
(ParallelRunner's workers included), so that ``bench.py`` can add up the time a
run spends moving data between its nodes.
"""

import logging
import time

from kedro.framework.hooks import hook_impl

logger = logging.getLogger("bench.io")


class DataMovementHooks:
    def __init__(self) -> None:
        self._started: dict[tuple[str, str], float] = {}

    def _start(self, kind: str, name: str) -> None:
        self._started[(kind, name)] = time.perf_counter()

    def _stop(self, kind: str, name: str) -> None:
        started = self._started.pop((kind, name), None)
        if started is not None and not name.startswith("params:"):
            logger.info("bench-io %s %s %.6f", kind, name, time.perf_counter() - started)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._start("load", dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self._stop("load", dataset_name)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._start("save", dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._stop("save", dataset_name)
