"""Python's garbage collector, kept off what the libraries' imports make: it lives as long
as the process."""

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def imports_uncollected() -> Iterator[None]:
    """Import meanwhile without garbage collections, then set what was made aside for good.

    Importing scikit-learn, SciPy, pandas and Kedro makes about 200,000 objects, and
    Python's collector walks them all at each full collection that the allocations set
    off: 0.2 s of CPU in a default run's main process, before its workers start. Modules,
    classes and functions stay until the process ends, so none of it is garbage to find.
    Frozen (``gc.freeze``), later collections, and the workers forked from this process,
    no longer walk them either. The collector runs as before once the block is over.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
