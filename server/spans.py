"""LSP ranges from the user-code analysis' spans (0-based lines, columns in code points).

The span types live in ``malhug.analyzers.usercode.spans`` (re-exported by ``malhug.analyzers.api``);
here they are converted to the client's position units when a diagnostic or edit is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from malhug.analyzers.api import Span


def to_lsp_range(span: Span, lines: Sequence[str], codec: Any) -> Any:
    """``span`` in the client's position units (``codec`` is pygls' PositionCodec)."""
    from lsprotocol import types

    rng = types.Range(
        start=types.Position(line=span.line, character=span.col),
        end=types.Position(line=span.end_line, character=span.end_col),
    )
    if codec is None:
        return rng
    start = codec.position_to_client_units(lines, rng.start)
    end = codec.position_to_client_units(lines, rng.end)
    return types.Range(start=start, end=end)
