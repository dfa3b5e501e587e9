"""No test needs the network: a guard every Python process of a run can load, and free ports."""

import contextlib
import os
import random
import socket
from collections.abc import Iterator
from pathlib import Path

# Loaded by every Python process of a run as its sitecustomize (on PYTHONPATH): records
# and refuses any connection that would leave this machine (loopback and Unix sockets,
# which the runners use between processes, pass).
GUARD = """
import os, socket
_connect = socket.socket.connect
def connect(self, address):
    local = self.family == socket.AF_UNIX or str(address[0]) in ("127.0.0.1", "::1", "localhost")
    if not local:
        with open(os.environ["NETWORK_LOG"], "a") as log:
            log.write(f"{os.getpid()} {address}\\n")
        raise OSError("network access refused by the test")
    return _connect(self, address)
socket.socket.connect = connect
"""


class Offline:
    """A folder holding ``GUARD`` as ``sitecustomize.py``, and the log of what it refused."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.log = folder / "network.log"
        (folder / "sitecustomize.py").write_text(GUARD)

    def env(self, src: Path, **more: str) -> dict[str, str]:
        """The environment of a process whose every Python process refuses other hosts
        (``src``: the project's source folder, also on the path)."""
        return {"PYTHONPATH": f"{self.folder}:{src}", "NETWORK_LOG": str(self.log)} | more

    @contextlib.contextmanager
    def in_this_process(self) -> Iterator[None]:
        """``GUARD`` in this process meanwhile: for a run in process."""
        connect, saved = socket.socket.connect, os.environ.get("NETWORK_LOG")
        os.environ["NETWORK_LOG"] = str(self.log)
        exec(GUARD, {})  # noqa: S102 - our own guard, as sitecustomize runs it
        try:
            yield
        finally:
            socket.socket.connect = connect
            if saved is None:
                del os.environ["NETWORK_LOG"]
            else:
                os.environ["NETWORK_LOG"] = saved

    def assert_no_request_left(self) -> None:
        assert not self.log.exists(), self.log.read_text()


def free_port() -> int:
    """A free loopback port, chosen by the system."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_below_ephemeral() -> int:
    """A free loopback port below 49152: kedro viz refuses the ephemeral range."""
    for port in random.sample(range(20_000, 49_152), 50):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free local port")
