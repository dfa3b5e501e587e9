"""Hooks the benchmark adds to its own copy of the project (never to the project).

They log, in the process that did it (ParallelRunner's workers included):

- how long each dataset load and save took, so that ``bench.py`` can add up the
  time a run spends moving data between its nodes;
- each node's wall and CPU seconds (its process's, threads included: a worker
  runs one node at a time), so that ``bench.py`` can say what share of a run's
  CPU a node took (``explain_model``'s: issue 32's first goal);
- once per process, that mlflow is imported there (issue 32's third goal: an
  untracked run should not pay for it).
"""

import logging
import os
import sys
import time

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

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


class NodeTimingHooks:
    def __init__(self) -> None:
        self._started: dict[str, tuple[float, float]] = {}
        self._mlflow_said = False

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started[node.name] = (time.perf_counter(), time.process_time())

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        started = self._started.pop(node.name, None)
        if started is not None:
            wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
            logger.info("bench-node %s %.6f %.6f", node.name, wall, cpu)
        self._say_mlflow()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._say_mlflow()

    def _say_mlflow(self) -> None:
        if not self._mlflow_said and "mlflow" in sys.modules:
            self._mlflow_said = True
            logger.info("bench-mlflow %d", os.getpid())
