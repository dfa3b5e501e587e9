"""Real Dask clusters on the loopback interface: a ``dask scheduler`` and ``dask worker``s."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client
from distributed.security import Security

from tests.helpers.network import free_port
from tests.helpers.project import ProjectCopy

RUNNER = "--runner=parallel_trees.runners.DaskRunner"
DASK = Path(sys.executable).parent / "dask"
# Every server a test starts listens on 127.0.0.1: its Dask port (--host) and its HTTP
# port (the scheduler serves /health and /metrics on 0.0.0.0:8787 even with --no-dashboard).
LOOPBACK = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--no-dashboard"]
TLS_FILES = {
    "tls_ca_file": "ca.pem",
    "tls_client_cert": "client.pem",
    "tls_client_key": "client-key.pem",
}


@contextmanager
def dask_cluster(
    project: ProjectCopy, logs: Path, scheme: str = "tcp", tls: Path | None = None, workers: int = 2
) -> Iterator[str]:
    """A ``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes on 127.0.0.1.

    With ``tls`` (a folder made by kedro dask-certs), every process uses its
    certificate. The workers run in the project copy, with its package on the
    path: what a real cluster shares with the machine that runs ``kedro run``.
    Every process is stopped by its id at the end, whatever the tests did. The
    address it yields is ``scheme://127.0.0.1:<port>``; each process logs to
    ``logs/<i>.log`` (0: the scheduler).
    """
    port = free_port()
    address = f"{scheme}://127.0.0.1:{port}"

    def certificate(role: str) -> list[str]:
        if tls is None:
            return []
        return [f"--tls-ca-file={tls / 'ca.pem'}", f"--tls-cert={tls / role}.pem",
                f"--tls-key={tls / role}-key.pem"]  # fmt: skip

    commands = [
        [DASK, "scheduler", "--port", str(port), *certificate("scheduler")],
        *[
            [DASK, "worker", address, "--nthreads", "1", *certificate("worker"),
             "--local-directory", str(logs / f"worker-{i}")]
            for i in range(1, workers + 1)
        ],
    ]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(project.root / "src")}
    processes = []
    try:
        for i, command in enumerate(commands):
            with (logs / f"{i}.log").open("w") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, *LOOPBACK],
                        cwd=project.root,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # a worker's nanny has a child: stop the group
                    )
                )
        with Client(address, security=client_security(tls), timeout=60) as client:
            if workers:
                client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def client_security(tls: Path | None) -> Security | None:
    """The test's own client of a cluster made with the certificates in ``tls``."""
    if tls is None:
        return None
    return Security(**{name: str(tls / file) for name, file in TLS_FILES.items()})


def worker_pids(address: str, tls: Path | None = None) -> set[int]:
    """The process ids of the cluster's workers."""
    with Client(address, security=client_security(tls), timeout=60) as client:
        return set(client.run(os.getpid).values())


def runner_params(address: str, tls: Path | None = None, **more: str) -> str:
    """``--runner-params`` for a run on ``address``, with the client certificate in ``tls``."""
    params = {"address": address} | (
        {name: str(tls / file) for name, file in TLS_FILES.items()} if tls else {}
    )
    return ",".join(f"{key}={value}" for key, value in (params | more).items())
