"""TLS for the drill server (HTTPS and WSS on one port) and its clients.

A certificate or key that cannot be used raises :class:`TLSError` (a
:class:`net.errors.NetError`, so ``drill`` prints one line and exits with status 2)
before the server listens.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from net.errors import NetError

__all__ = ["TLSError", "client_context", "server_context"]


class TLSError(NetError):
    """A certificate, key or CA file that cannot be used."""


def server_context(certfile: str | Path, keyfile: str | Path | None = None) -> ssl.SSLContext:
    """A server context from a PEM certificate (chain) and its private key.

    ``keyfile`` None: the key is in ``certfile``. Raises TLSError naming the file and
    what is wrong with it (missing, unreadable, not PEM, key not matching).
    """
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path is not None and not Path(path).is_file():
            raise TLSError(f"{flag}: '{path}' is not a file")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(certfile), None if keyfile is None else str(keyfile))
    except ssl.SSLError as exc:
        raise TLSError(f"--certfile '{certfile}' / --keyfile '{keyfile}': not a PEM "
                       f"certificate and its matching private key ({exc.reason or exc})"
                       ) from None
    except OSError as exc:
        raise TLSError(f"--certfile '{certfile}' / --keyfile '{keyfile}': "
                       f"{exc.strerror or exc}") from None
    return ctx


def client_context(*, cafile: str | Path | None = None, insecure: bool = False
                   ) -> ssl.SSLContext:
    """A client context: the system's trusted CAs (or ``cafile``'s); ``insecure`` accepts
    any certificate (a self-signed one on a test server) and any host name."""
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=None if cafile is None else str(cafile))
    except (ssl.SSLError, OSError) as exc:
        raise TLSError(f"--cafile '{cafile}': cannot read it as PEM certificates ({exc})"
                       ) from None
