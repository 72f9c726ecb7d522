"""Logging that imports :mod:`logging` only when a record can be shown.

Importing ``logging`` costs a few milliseconds (it pulls in ``traceback``, ``threading``, ``string``
…), more than scanning a small file. The analyzers log only when something fails, so they get
their logger here, at the point of use; the CLI hands its configuration to ``configure``, which
applies it when ``logging`` is imported or at the first record.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import logging

WARNING = 30  # logging.WARNING, without importing logging
DEBUG = 10

_pending: tuple[int, TextIO, str] | None = None  # level, stream, format


def configure(level: int, stream: TextIO, format: str, *, now: bool = False) -> None:
    """``logging.basicConfig(level=…, stream=…, format=…)``: at once when ``now``, when ``logging``
    is already imported or ``level`` is below ``WARNING``; otherwise at the first record logged through
    ``logger`` (modules that log through their own ``logging.getLogger`` need ``now``)."""
    global _pending
    if now or level < WARNING or "logging" in sys.modules:
        import logging

        _pending = None
        logging.basicConfig(level=level, stream=stream, format=format)
    else:
        _pending = (level, stream, format)


def logger(name: str) -> logging.Logger:
    """The logger ``name``, with the CLI's deferred configuration applied first."""
    global _pending
    import logging

    if _pending is not None:
        (level, stream, format), _pending = _pending, None
        logging.basicConfig(level=level, stream=stream, format=format)
    return logging.getLogger(name)


def debug(name: str, msg: str, *args: object) -> None:
    """A debug record of ``name``; dropped unimported when ``logging`` is not loaded, since then
    nothing configured a handler that shows debug records."""
    if "logging" in sys.modules:
        logger(name).debug(msg, *args)
