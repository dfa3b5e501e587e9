"""Reaching a running Dask cluster: its TLS settings checked before any connection,
and, when a connection fails, what to fix (measured with distributed 2026.8)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from distributed import Client
from distributed.comm.addressing import parse_address, parse_host_port
from distributed.security import Security

from parallel_trees.errors import UserError

# The client's certificate, in Dask's configuration (and so in its environment variables).
TLS_SETTINGS = {
    "tls_ca_file": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
    "tls_client_cert": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
    "tls_client_key": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY",
}
SCHEMES = ("tls", "tcp")


def client_security(address: str | None, given: dict[str, str]) -> Security | None:
    """The TLS settings of a client of ``address``, checked before any connection.

    Args:
        address: The scheduler's address; ``None`` for a local cluster.
        given: The runner's ``tls_*`` parameters that were given; the others
            come from Dask's configuration.

    Returns:
        The client's ``Security`` for a cluster given by address; ``None`` for a local one.

    Raises:
        UserError: The scheme is not tls or tcp; a tls address without a CA or
            certificate; a file missing or unreadable; certificates for tcp.
    """
    if address is None:
        if given:
            raise UserError(
                f"{', '.join(given)} given without an address: the local Dask cluster "
                "listens on 127.0.0.1 only, without TLS. Give the TLS scheduler's address "
                "too (--runner-params address=tls://<host>:8786,...)."
            )
        return None
    scheme, location = parse_address(address)
    if scheme not in SCHEMES:
        raise UserError(
            f"address = {address}: the scheme must be tls:// (a shared network, with "
            "certificates) or tcp:// (a network only you use)."
        )
    security = Security(**given)
    files = {name: getattr(security, name) for name in TLS_SETTINGS}
    given_files = {name: value for name, value in files.items() if value}
    if scheme == "tcp":
        if given_files:
            raise UserError(
                f"address = {address} is plain tcp, so the certificate settings "
                f"{', '.join(given_files)} (runner parameters, or Dask's configuration) would "
                f"go unused and the connection unencrypted: connect to tls://{location}."
            )
        return security
    missing = [name for name in ("tls_ca_file", "tls_client_cert") if not files[name]]
    if missing:
        raise UserError(
            f"{address} is a TLS scheduler: it needs your certificate ({', '.join(missing)} "
            "not given). Give tls_ca_file, tls_client_cert and tls_client_key with "
            f"--runner-params, or set {', '.join(TLS_SETTINGS.values())} "
            "(kedro dask-certs makes them)."
        )
    for name, value in given_files.items():
        if "\n" not in value and not Path(value).is_file():  # Dask also takes PEM text
            raise UserError(f"{name} = {value}: no such file.")
    try:
        security.get_connection_args("client")  # loads the CA, the certificate and its key
    except (ssl.SSLError, OSError) as error:
        names = ", ".join(f"{name} = {value}" for name, value in given_files.items())
        raise UserError(
            f"The client certificate does not load ({error.strerror or error}): {names}. "
            "Give the CA's certificate, your certificate and its own key, in PEM."
        ) from error
    return security


def connect(address: str, security: Security | None, timeout: float) -> Client:
    """A client of the scheduler at ``address``, which has at least one worker.

    Raises:
        UserError: It cannot connect within ``timeout`` seconds, saying why
            and what to fix; or the scheduler has no worker after as long.
    """
    try:
        client = Client(address, security=security, timeout=timeout)
    # Dask's CommClosedError and SSL errors are OSErrors; tornado raises a ValueError when
    # a plain tcp server speaks before the TLS handshake begins.
    except (OSError, ValueError) as error:
        raise UserError(_why_not_connected(address, error, timeout)) from error
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()
        tls = " --tls-ca-file ca.pem --tls-cert worker.pem --tls-key worker-key.pem"
        start = f"dask worker {address} --nthreads 1{tls if address.startswith('tls') else ''}"
        raise UserError(
            f"The Dask scheduler at {address} has no workers (waited {timeout:g} s). "
            f"Start some ({start}), or wait longer (--runner-params timeout=<seconds>)."
        ) from None
    return client


def _causes(error: BaseException) -> list[BaseException]:
    """The error and the errors that caused it, outermost first.

    Tornado's ``StreamClosedError`` keeps its cause as ``real_error``.
    """
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or getattr(cause, "real_error", None) or cause.__context__
    return chain


def _refused(location: str) -> bool:
    """Whether ``host:port`` refuses a connection now: nothing listens there.

    (Dask retries refused connections until its timeout, and may then give no cause.)
    """
    try:
        socket.create_connection(parse_host_port(location), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def _why_not_connected(address: str, error: Exception, timeout: float) -> str:
    """What to fix, from how the connection failed (measured with distributed 2026.8)."""
    causes = _causes(error)
    scheme, location = parse_address(address)
    tls = scheme == "tls"
    other = f"{'tcp' if tls else 'tls'}://{location}"

    def seen(kind: type[BaseException]) -> bool:
        return any(isinstance(cause, kind) for cause in causes)

    if seen(ConnectionRefusedError) or _refused(location):
        return (
            f"Nothing listens at {address}: the connection is refused. Start the Dask "
            "scheduler there, or correct the address (--runner-params address=, or "
            "DASK_SCHEDULER_ADDRESS)."
        )
    if seen(ssl.SSLCertVerificationError):
        return (
            f"The Dask scheduler at {address} has a certificate that tls_ca_file's CA did "
            "not sign. Give the cluster's own CA certificate (its ca.pem) as tls_ca_file."
        )
    if any(
        getattr(cause, "reason", None) == "WRONG_VERSION_NUMBER"
        or "cannot convert to SSL" in str(cause)  # tornado: the server spoke first
        for cause in causes
    ):
        return (
            f"The Dask scheduler at {address} does not use TLS: it answered in plain text. "
            f"Start it with --tls-ca-file, --tls-cert and --tls-key (see docs/cluster.md), or, "
            f"on a network only you use, connect to {other}."
        )
    if tls and (seen(ssl.SSLError) or seen(ConnectionResetError)):  # SSLEOFError: an SSLError
        return (
            f"The Dask scheduler at {address} refused your certificate: it trusts only "
            "certificates signed by its own CA (its --tls-ca-file). Use a client "
            "certificate and key signed by that CA (tls_client_cert, tls_client_key)."
        )
    if not tls and seen(ConnectionResetError):
        return (
            f"The Dask scheduler at {address} closed the connection at once, as a TLS "
            f"scheduler does to a plain tcp:// client. Connect to {other} with your "
            "certificate (tls_ca_file, tls_client_cert, tls_client_key)."
        )
    return f"No connection to the Dask scheduler at {address} within {timeout:g} s: {error}"
