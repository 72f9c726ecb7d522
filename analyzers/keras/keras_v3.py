"""Keras v3 ``.keras`` archives: a zip of ``config.json``, ``metadata.json`` and ``model.weights.h5``.

Every member goes through the shared zip walk (``containers.zipscan``): ``config.json`` is detected as
JSON and gets the Keras config walk (Lambda bytecode, module references) with findings located in
the member, ``model.weights.h5`` gets the HDF5 analysis, anything else (a pickle in ``assets/``) its
own analyzer. This module adds what is specific to a Keras archive: the config must exist and parse.
"""

from __future__ import annotations

import json

from malhug.analyzers.containers.zipscan import analyze_zip
from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import MalformedInput
from malhug.analyzers.shared.source import ByteSource
from malhug.analyzers.shared.ziparchive import ZipArchive
from malhug.core.model import Location
from malhug.core.rules import finding

CONFIG = "config.json"


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    analyze_zip(ctx, src)
    archive = ZipArchive(src, ctx.limits)
    member = archive.find(CONFIG)
    if member is None:
        raise MalformedInput(f".keras archive has no {CONFIG}")
    data = archive.read(member, max_bytes=ctx.limits.max_stream_bytes + 1)
    try:
        json.loads(data.decode("utf-8"))
    except RecursionError:
        return  # the nested JSON analysis reported the nesting limit
    except (ValueError, UnicodeDecodeError) as exc:
        ctx.add(
            finding(
                "MH307",
                f"{CONFIG} is not valid JSON, so its layers could not be checked: {exc}",
                location=Location(member=CONFIG),
                evidence=data[:200].decode("latin-1"),
            )
        )
