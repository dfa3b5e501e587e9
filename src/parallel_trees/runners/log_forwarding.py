"""Log forwarding: what a node logs to the console on a Dask worker is printed by ``kedro run``.

A console handler of the worker's logging configuration hands each record a
node logs to the node's client (``ToClient``), through the run's Dask topic;
the client prints it with its own handler of the same name (``print_forwarded``).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import rich.logging
from distributed import get_worker

# In a worker's thread that runs a node: the Dask topic of the node's run, which its client
# subscribes to. What the node logs to the console goes there (see ToClient).
run_topic: ContextVar[str | None] = ContextVar("run_topic", default=None)


def console_handlers() -> dict[str, logging.Handler]:
    """The handlers of this process's logging configuration that print to the terminal, by name.

    Named handlers are those of the logging configuration (``conf/logging.yml``):
    Dask's own handlers have no name.
    """
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = {h for lg in loggers if isinstance(lg, logging.Logger) for h in lg.handlers}
    return {
        h.name: h
        for h in handlers
        # A plain StreamHandler writes to a stream, not a file (FileHandler is a subclass).
        if h.name and (isinstance(h, rich.logging.RichHandler) or type(h) is logging.StreamHandler)
    }


class ToClient(logging.Filter):
    """On a worker: send what a console handler is given while a node runs to its run's client.

    The client prints each record with its own handler of the same name
    (``print_forwarded``), so a node's lines appear in the terminal of
    ``kedro run`` and not in the worker's; the worker's other handlers (its
    ``info.log``) keep them too. Records outside a node (Dask's own, between
    tasks) stay on the worker.
    """

    def __init__(self, handler: str):
        super().__init__()
        self._handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        """Send the record to the node's client, if a node logged it; whether to print it here."""
        topic = run_topic.get()
        if topic is None:
            return True
        get_worker().log_event(topic, [self._handler, _portable(record)])
        return False


def _portable(record: logging.LogRecord) -> dict[str, Any]:
    """The record as plain values (as Dask's ``Client.forward_logging`` sends it)."""
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    attributes = record.__dict__ | {"msg": record.getMessage(), "args": None, "exc_info": None}
    return {
        key: value
        for key, value in attributes.items()
        if key != "message" and (value is None or isinstance(value, str | int | float | bool))
    }


def print_forwarded(handlers: dict[str, logging.Handler], event: tuple[float, Any]) -> None:
    """In ``kedro run``: print a record that a node logged on a worker, with the handler it named.

    Args:
        handlers: This process's console handlers (``console_handlers``).
        event: What Dask delivers for the run's topic: (time, [handler name, record]).
    """
    name, attributes = event[1]
    if name in handlers:
        handlers[name].handle(logging.makeLogRecord(attributes))
