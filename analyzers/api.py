"""The analyzers' public surface: everything the CLI, the hub and the language server use.

Nothing outside ``malhug.analyzers`` imports another analyzers module (an import-linter contract in
pyproject.toml checks it); tests may. What is here:

- scanning: ``scan_path``, ``scan_file``, ``scan_source``, ``scan_bytes`` and ``DEFAULT_HASH_LIMIT``;
- limits: ``Limits``, ``DEFAULT_LIMITS``, ``LimitExceeded`` (raised by a byte source past a bound);
- byte sources: ``BytesSource``, ``FileSource``; for sources of one's own ``SourceBase`` (``size``,
  ``bytes_read`` and the read clamp), ``clamp_read`` and ``covered`` (a read out of kept segments);
- sniffing: ``sniff_head`` (whether a file's first bytes are a format an analyzer reads: the hub plan
  scans an unselected file only then);
- the script analysis for the editor and the hub, loaded on first use (it imports libcst):
  ``analyze_text``, ``Budget``, ``is_suppressed``, ``suppressed_rules``, ``looks_like_load_time_code``
  and the repository walk of ``scripts.repo`` (``AUTO_MAP_CONFIGS``, ``load_time_code``,
  ``local_load_time_code``, ``remote_code_refs``, ``select_code_files``);
- rule names the server compares findings with: ``SYNTAX_ERROR`` (MH514, from ``scripts.rules``, which
  imports nothing);
- the user-code rules (MH701-MH709, ``usercode``), loaded on first use: ``analyze_user_code`` and
  ``UserCodeReport``, notebooks' code cells (``analyze_notebook``, ``CellReport``, ``NotebookError``), the structures behind them (``CodeAnalysis``, ``HubRef``, ``RiskyLoad``,
  ``CallSite``, ``Arg``, ``BlockCache``, ``SourceLines``, ``Span``, ``Pos``, ``normalise_id``, ``ref_at``,
  ``TRUST_REMOTE_CODE``), the helpers that turn them into findings (``load_finding``, ``load_severity``,
  ``span_location``, ``span_text``) and the minimal text edits of the quick fixes (``Edit``,
  ``add_keyword``, ``set_keyword``, ``remove_keyword``, ``quote_like``, ``ignore_comment``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from malhug.analyzers.detect import sniff_head
from malhug.analyzers.dispatch import DEFAULT_HASH_LIMIT, scan_bytes, scan_file, scan_path, scan_source
from malhug.analyzers.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from malhug.analyzers.scripts.rules import SYNTAX_ERROR
from malhug.analyzers.shared.source import BytesSource, FileSource, SourceBase, clamp_read, covered

if TYPE_CHECKING:
    from malhug.analyzers.scripts.analyzer import analyze_text
    from malhug.analyzers.scripts.budget import Budget
    from malhug.analyzers.scripts.repo import (
        AUTO_MAP_CONFIGS,
        load_time_code,
        local_load_time_code,
        remote_code_refs,
        select_code_files,
    )
    from malhug.analyzers.scripts.scope import looks_like_load_time_code
    from malhug.analyzers.shared.suppress import is_suppressed, suppressed_rules
    from malhug.analyzers.usercode.blocks import BlockCache
    from malhug.analyzers.usercode.callsites import Arg, CallSite
    from malhug.analyzers.usercode.edits import (
        Edit,
        add_keyword,
        ignore_comment,
        quote_like,
        remove_keyword,
        set_keyword,
    )
    from malhug.analyzers.usercode.findings import (
        UserCodeReport,
        analyze_user_code,
        load_finding,
        load_severity,
        span_location,
        span_text,
    )
    from malhug.analyzers.usercode.loaders import LoaderArgs, loader_args, safetensors_removes_risk
    from malhug.analyzers.usercode.localloads import file_loads, local_path
    from malhug.analyzers.usercode.notebook import CellReport, NotebookError, analyze_notebook
    from malhug.analyzers.usercode.pin import (
        FilePlan,
        PinDecision,
        apply_edits,
        plan_notebook,
        plan_text,
        round_trip_error,
    )
    from malhug.analyzers.usercode.references import (
        TRUST_REMOTE_CODE,
        CodeAnalysis,
        HubRef,
        RiskyLoad,
        normalise_id,
        ref_at,
    )
    from malhug.analyzers.usercode.spans import Pos, SourceLines, Span

# Names imported on first use, and the module each comes from (a scan that meets no Python needs none).
_LAZY = {
    "analyze_text": "malhug.analyzers.scripts.analyzer",
    "Budget": "malhug.analyzers.scripts.budget",
    "AUTO_MAP_CONFIGS": "malhug.analyzers.scripts.repo",
    "load_time_code": "malhug.analyzers.scripts.repo",
    "local_load_time_code": "malhug.analyzers.scripts.repo",
    "remote_code_refs": "malhug.analyzers.scripts.repo",
    "select_code_files": "malhug.analyzers.scripts.repo",
    "looks_like_load_time_code": "malhug.analyzers.scripts.scope",
    "is_suppressed": "malhug.analyzers.shared.suppress",
    "suppressed_rules": "malhug.analyzers.shared.suppress",
    **dict.fromkeys(("BlockCache",), "malhug.analyzers.usercode.blocks"),
    **dict.fromkeys(("Arg", "CallSite"), "malhug.analyzers.usercode.callsites"),
    **dict.fromkeys(
        ("Edit", "add_keyword", "ignore_comment", "quote_like", "remove_keyword", "set_keyword"),
        "malhug.analyzers.usercode.edits",
    ),
    **dict.fromkeys(
        ("UserCodeReport", "analyze_user_code", "load_finding", "load_severity", "span_location", "span_text"),
        "malhug.analyzers.usercode.findings",
    ),
    **dict.fromkeys(("CellReport", "NotebookError", "analyze_notebook"), "malhug.analyzers.usercode.notebook"),
    **dict.fromkeys(
        ("TRUST_REMOTE_CODE", "CodeAnalysis", "HubRef", "RiskyLoad", "normalise_id", "ref_at"),
        "malhug.analyzers.usercode.references",
    ),
    **dict.fromkeys(("Pos", "SourceLines", "Span"), "malhug.analyzers.usercode.spans"),
    **dict.fromkeys(("LoaderArgs", "loader_args", "safetensors_removes_risk"), "malhug.analyzers.usercode.loaders"),
    **dict.fromkeys(("file_loads", "local_path"), "malhug.analyzers.usercode.localloads"),
    **dict.fromkeys(
        ("FilePlan", "PinDecision", "apply_edits", "plan_notebook", "plan_text", "round_trip_error"),
        "malhug.analyzers.usercode.pin",
    ),
}

__all__ = [
    "AUTO_MAP_CONFIGS",
    "Arg",
    "BlockCache",
    "CallSite",
    "CellReport",
    "CodeAnalysis",
    "Edit",
    "FilePlan",
    "LoaderArgs",
    "PinDecision",
    "apply_edits",
    "loader_args",
    "local_path",
    "file_loads",
    "plan_notebook",
    "plan_text",
    "round_trip_error",
    "safetensors_removes_risk",
    "HubRef",
    "NotebookError",
    "Pos",
    "RiskyLoad",
    "SourceLines",
    "Span",
    "TRUST_REMOTE_CODE",
    "UserCodeReport",
    "add_keyword",
    "analyze_notebook",
    "analyze_user_code",
    "ignore_comment",
    "load_finding",
    "load_severity",
    "normalise_id",
    "quote_like",
    "ref_at",
    "remove_keyword",
    "set_keyword",
    "span_location",
    "span_text",
    "DEFAULT_HASH_LIMIT",
    "DEFAULT_LIMITS",
    "Budget",
    "BytesSource",
    "FileSource",
    "LimitExceeded",
    "Limits",
    "SYNTAX_ERROR",
    "SourceBase",
    "analyze_text",
    "clamp_read",
    "covered",
    "is_suppressed",
    "load_time_code",
    "local_load_time_code",
    "looks_like_load_time_code",
    "remote_code_refs",
    "scan_bytes",
    "scan_file",
    "scan_path",
    "scan_source",
    "select_code_files",
    "sniff_head",
    "suppressed_rules",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
