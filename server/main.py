"""``malhug lsp``: the language server over stdio."""

from __future__ import annotations

import logging
import sys

from malhug.server.features import Components, register
from malhug.server.state import LOG_FORMAT, ClientFactory, MalhugServer, SourceFormatter, default_client_factory
from malhug.server.transport import start_stdio


def build_server(client_factory: ClientFactory = default_client_factory) -> tuple[MalhugServer, Components]:
    server = MalhugServer(client_factory=client_factory)
    return server, register(server)


def create_server(client_factory: ClientFactory = default_client_factory) -> MalhugServer:
    return build_server(client_factory)[0]


def serve() -> None:
    # stdout carries the protocol: everything else goes to stderr (and to the client as logMessage).
    # stderr records: "LEVEL source: message" (the client reads the level from the first word).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SourceFormatter(f"%(levelname)s {LOG_FORMAT}"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("pygls").setLevel(logging.WARNING)
    server, components = build_server()
    # pygls's own stdio loop (``start_io``) has no bound on a frame and loses step on a bad header.
    start_stdio(server, sys.stdin.buffer, sys.stdout.buffer, on_dropped=components.documents.dropped_frame)
