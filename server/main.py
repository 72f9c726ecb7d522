"""``malhug lsp``: the language server over stdio."""

from __future__ import annotations

import logging
import sys

from malhug.server.features import register
from malhug.server.state import ClientFactory, MalhugServer, default_client_factory


def create_server(client_factory: ClientFactory = default_client_factory) -> MalhugServer:
    server = MalhugServer(client_factory=client_factory)
    register(server)
    return server


def serve() -> None:
    # stdout carries the protocol: everything else goes to stderr (and to the client as logMessage).
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    create_server().start_io()
