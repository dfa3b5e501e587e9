"""Errors a user can fix, and how the ``kedro`` CLI shows them.

Nodes raise ``InputError`` (plain ``ValueError`` subclasses, usable outside
Kedro); the run guard (``hooks.RunGuardHooks``) turns them into a ``UserError``,
which the CLI prints as one ``Error: ...`` message with no traceback.
"""

from collections.abc import Iterable
from typing import IO, Any

import click
from kedro.framework.cli.utils import KedroCliError

INTERRUPTED = 130  # the exit code of a process ended by Ctrl-C (128 + SIGINT)


class UserError(KedroCliError):
    """Printed by the ``kedro`` CLI as ``Error: <message>``, with no traceback.

    The traceback, when there is one, is logged at DEBUG level by the
    ``parallel_trees`` logger (see ``conf/logging.yml``).
    """

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message alone: it says what is wrong, where, and how to fix it.

        (``KedroCliError.show`` formats the *active* exception, and there is
        none left by the time click calls ``show``.)
        """
        click.secho(f"Error: {self.message}", file=file, fg="red", err=True)


class RunInterrupted(UserError):
    """A run stopped by Ctrl-C: ``kedro run`` exits as a process ended by SIGINT does."""

    exit_code = INTERRUPTED


class InputError(ValueError):
    """Bad input met by a node; the message says what, where and how to fix it.

    Args:
        message: What is wrong, and how to fix it.
        settings: The parameters at fault (dotted keys): the run guard adds
            the file, or ``--params``, that sets each one.
    """

    def __init__(self, message: str, settings: Iterable[str] = ()):
        super().__init__(message)
        self.settings = tuple(settings)


class DataError(InputError):
    """The data cannot be used as it is (a column, a value, a class count)."""


class TrainingError(InputError):
    """A model rejected its parameters when it was trained."""
