"""The runners, one module per concern.

- ``parallel``: ``ParallelRunner`` (``kedro run --runner=ParallelRunner``), with
  its ``handoff`` (data through shared files) and its ``pool`` (longest chain first).
- ``dask``: ``DaskRunner`` (``--runner=parallel_trees.runners.DaskRunner``), with
  its ``connection`` (TLS checks, why a connection failed), its ``log_forwarding``
  and the ``forkserver`` of its local cluster's workers.
- ``options``: ``--runner`` and ``--runner-params`` checked before a run.
- ``supervision`` and ``journal``: a run stopped at once by Ctrl-C or a dead process,
  naming the nodes it lost.
"""

from typing import Any

from parallel_trees.runners.parallel import ParallelRunner

__all__ = ["DaskRunner", "ParallelRunner"]


def __getattr__(name: str) -> Any:
    """``DaskRunner``, imported when first named: a run on any other runner never imports
    Dask."""
    if name == "DaskRunner":
        from parallel_trees.runners.dask import DaskRunner  # noqa: PLC0415

        return DaskRunner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
