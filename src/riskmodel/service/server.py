"""``bentoml serve`` with a listening socket per worker, so that the kernel spreads connections over the workers.

BentoML binds one socket and shares it with its workers: whichever worker wakes first
accepts every connection waiting, and a client's connections opened at once often all land
on one worker while the other idles (about one run in three with ``wrk``'s 8 connections;
throughput then halves). Marked ``so_reuseport``, circus (BentoML's process manager) binds a
socket of its own on the port for each worker instead, and the kernel hands each new
connection to one of them by a hash of its addresses.

``riskmodel serve`` runs ``python -m riskmodel.service.server serve ...`` with the arguments of
``bentoml serve``.
"""

from __future__ import annotations

import socket
import sys
from typing import Any


def spread_connections() -> None:
    """Have circus give each worker its own SO_REUSEPORT socket for the TCP sockets BentoML asks for (call before serving)."""
    if not hasattr(socket, "SO_REUSEPORT"):
        return
    from circus.sockets import CircusSocket

    shipped = CircusSocket.__init__
    if getattr(shipped, "per_worker", False):
        return

    def per_worker(self: CircusSocket, *args: Any, **kwargs: Any) -> None:
        tcp = kwargs.get("path") is None
        shipped(self, *args, **{**kwargs, "so_reuseport": tcp or kwargs.get("so_reuseport", False)})
        if tcp and self.so_reuseport:  # what circus binds again in each worker
            self._cfg = {
                "name": self.name,
                "host": self.host,
                "port": self.port,
                "family": "AF_INET6" if self.family == socket.AF_INET6 else "AF_INET",
                "backlog": self.backlog,
                "so_reuseport": True,
            }

    per_worker.per_worker = True  # type: ignore[attr-defined]
    CircusSocket.__init__ = per_worker  # type: ignore[method-assign]
    _bind_per_worker_for_arguments()


def _bind_per_worker_for_arguments() -> None:
    """Bind a worker's own socket also when the watcher names the socket in its arguments (BentoML's
    ``--fd $(circus.sockets.NAME)``): circus looks for the name in the command only."""
    from circus.process import Process
    from circus.sockets import CircusSocket

    shipped = Process._get_sockets_fds

    def sockets_fds(self: Process) -> dict[str, int] | None:
        fds = shipped(self)
        watcher = self.watcher
        if fds is None or watcher is None or watcher.sockets is None:
            return fds
        args = watcher.args if isinstance(watcher.args, str) else " ".join(map(str, watcher.args or ()))
        for name, sock in watcher.sockets.items():
            ref = f"circus.sockets.{name}"
            if sock.so_reuseport and ref in args and ref not in watcher.cmd:
                own = CircusSocket.load_from_config(sock._cfg)
                own.bind_and_listen()
                fds[name] = own.fileno()
                self._sockets.append(own)  # kept open until the worker has started
        return fds

    Process._get_sockets_fds = sockets_fds  # type: ignore[method-assign]


def main() -> None:
    spread_connections()
    from bentoml_cli.cli import cli

    cli(prog_name="bentoml")


if __name__ == "__main__":
    sys.exit(main())
