"""JSON files: only chat templates (``tokenizer_config.json``) and Keras configs are of interest.

Ordinary JSON (model configs, vocabularies, tokenizer.json) is clean. A ``chat_template`` value,
either a string or a list of ``{"name", "template"}`` entries, gets the template check; a value
shaped like a Keras model config gets the Keras config walk (through ``ctx.seams``). The shards a
checkpoint index names in ``weight_map`` are followed as side files (``shared/sidefiles.py``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from malhug.analyzers.context import ScanContext
from malhug.analyzers.limits import LimitExceeded, MalformedInput
from malhug.analyzers.modelformats.chat_template import check_template
from malhug.analyzers.shared.sidefiles import follow
from malhug.analyzers.shared.source import ByteSource, read_all


def _templates(value: Any) -> list[tuple[str, str]]:
    """(name, template) pairs of a ``chat_template`` value."""
    if isinstance(value, str):
        return [("chat_template", value)]
    out = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                out.append((f"chat_template.{item.get('name') or i}", item["template"]))
    return out


def analyze(ctx: ScanContext, src: ByteSource) -> None:
    data = read_all(src, ctx.limits.max_stream_bytes)
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except RecursionError as exc:
        raise LimitExceeded("JSON nesting (Python's recursion limit)", sys.getrecursionlimit()) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedInput(f"JSON does not parse: {exc}") from exc
    if not isinstance(value, dict):
        return
    for name, template in _templates(value.get("chat_template")):
        ctx.check_time()  # a list of many templates: each is a Jinja parse
        check_template(ctx, template, name)
    ctx.seams.keras_config(ctx, value)
    _shards(ctx, value)


def _shards(ctx: ScanContext, value: dict[str, Any]) -> None:
    """A sharded checkpoint's index (``pytorch_model.bin.index.json``, ``model.safetensors.index.json``):
    ``from_pretrained`` loads every shard its ``weight_map`` names, so they are scanned as its side files
    (once: a shard that the same folder or revision scan scans on its own is only checked to be there)."""
    weight_map = value.get("weight_map")
    if not isinstance(weight_map, dict):
        return
    shards = sorted({v for v in weight_map.values() if isinstance(v, str)})
    for shard in shards:
        ctx.check_time()
        follow(ctx, shard, why="the checkpoint index's weight_map", once=True)
