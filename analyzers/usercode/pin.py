"""``malhug pin``'s codemod, pure: what to set on each loading call of one text, and the edited text.

For every Hub reference the user-code analysis recognises, ``decide(repo_type, repo_id, revision)``
(the hub layer's lookup) says which full commit sha to pin, or why none can be; the call gets
``revision="<sha>"``, plus ``use_safetensors=True`` where the loader accepts it and the pinned
revision has safetensors weights (``loaders.py``). ``torch.load`` gets ``weights_only=True`` where the
argument is missing. The edits are the quick fixes' own minimal text edits (``edits.py``), so line
breaks, trailing commas, quotes and comments stay as written.

A text is only rewritten when libcst reads the original back to exactly the same text, and the
edited text parses (``ast`` and libcst) and round-trips too; otherwise the file is reported and left
as it is. Running the codemod on its own output changes nothing: a call that already has the sha, the
flag or ``weights_only`` is not touched.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from malhug.analyzers.shared.suppress import is_suppressed
from malhug.analyzers.usercode.blocks import BlockCache
from malhug.analyzers.usercode.callsites import CallSite
from malhug.analyzers.usercode.edits import Edit, quote_like, set_keyword
from malhug.analyzers.usercode.loaders import REVISION, USE_SAFETENSORS, WEIGHTS_ONLY, loader_args
from malhug.analyzers.usercode.references import TORCH_LOAD, HubRef, analyze_code
from malhug.analyzers.usercode.spans import Pos, SourceLines, Span

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PATH_SHA = re.compile(r"@([0-9a-f]{40})(?:/|$)")
MAX_EDITS_PER_FILE = 500  # a text that asks for more is left alone and reported (bounded work)


@dataclass(frozen=True)
class PinDecision:
    """The hub layer's answer for one (repo type, repo id, revision as written)."""

    sha: str | None  # the full commit sha to pin; None when no revision can be pinned
    safetensors: bool = False  # the revision pinned has ``.safetensors`` weights
    reason: str = ""  # why there is no sha (shown to the user)


Decide = Callable[[str, str, str | None], PinDecision]


@dataclass(frozen=True)
class Note:
    """One thing said about a place in the text (1-based line and column)."""

    line: int
    column: int
    message: str


@dataclass
class FilePlan:
    text: str
    new_text: str
    changes: list[Note] = field(default_factory=list)  # what was (or would be) set
    problems: list[Note] = field(default_factory=list)  # references that could not be pinned
    notes: list[Note] = field(default_factory=list)  # left as written on purpose
    error: str | None = None  # the whole text was left alone (does not parse, round trip failed)

    @property
    def changed(self) -> bool:
        return self.error is None and self.new_text != self.text


@dataclass(frozen=True)
class _Want:
    call_start: Pos
    name: str
    value: str  # Python source of the value


def _note(span: Span, message: str) -> Note:
    return Note(span.line + 1, span.col + 1, message)


def round_trip_error(text: str) -> str | None:
    """Why ``text`` must not be written or rewritten, or None: it parses and libcst gives it back exactly."""
    import libcst

    try:
        ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return f"does not parse: {exc}"
    try:
        module = libcst.parse_module(text)
    except libcst.ParserSyntaxError as exc:
        return f"libcst cannot parse it: {str(exc).splitlines()[0]}"
    if module.code != text:
        return "libcst does not read it back to the same text"
    return None


def _path_ref(ref: HubRef, decide: Decide, plan: FilePlan) -> None:
    """An ``hf://`` path carries its revision (``@<sha>``): checked, never rewritten."""
    label = f"{ref.repo_type} {ref.repo_id}"
    raw = next((a.value for a in ref.call.args if a.value_span == ref.id_span), None) if ref.call else None
    pinned = _PATH_SHA.search(raw) if isinstance(raw, str) else None
    decision = decide(ref.repo_type, ref.repo_id, pinned.group(1) if pinned else None)
    if pinned is not None and decision.sha == pinned.group(1):
        return
    if decision.sha is None:
        plan.problems.append(_note(ref.id_span, f"{label}: not pinned: {decision.reason}"))
    else:
        where = "the path's revision does not scan clean; " if pinned else ""
        plan.problems.append(_note(ref.id_span, f"{label}: {where}pin it in the path: @{decision.sha}"))


def _ref_wants(ref: HubRef, src: SourceLines, decide: Decide, plan: FilePlan) -> list[_Want]:
    call = ref.call
    label = f"{ref.repo_type} {ref.repo_id}"
    if call is None or ref.kind == "hf-path":
        _path_ref(ref, decide, plan)
        return []
    args = loader_args(ref.kind, call)
    if not args.revision:
        plan.problems.append(_note(ref.id_span, f"{label}: {call.written}() takes no revision= argument"))
        return []
    if any(a.name in ("*", "**") for a in call.args):
        plan.problems.append(_note(ref.id_span, f"{label}: the call passes */** arguments; revision= not set"))
        return []
    given = call.keyword(REVISION)
    if given is not None and not isinstance(given.value, str):
        plan.problems.append(_note(ref.id_span, f"{label}: revision= is not a constant; left as written"))
        return []
    decision = decide(ref.repo_type, ref.repo_id, ref.revision)
    if decision.sha is None:
        plan.problems.append(_note(ref.id_span, f"{label}: not pinned: {decision.reason}"))
        return []
    wants = []
    start = call.span.start
    if decision.sha != ref.revision:
        wants.append(_Want(start, REVISION, quote_like(src, ref.id_span, decision.sha)))
        plan.changes.append(_note(ref.id_span, f'{label}: revision="{decision.sha}"'))
    if args.use_safetensors and decision.safetensors and call.keyword(USE_SAFETENSORS) is None:
        wants.append(_Want(start, USE_SAFETENSORS, "True"))
        plan.changes.append(_note(ref.id_span, f"{label}: use_safetensors=True"))
    return wants


def _load_wants(call: CallSite, src: SourceLines, plan: FilePlan) -> list[_Want]:
    if not loader_args(None, call).weights_only or is_suppressed(src.lines, call.span.line + 1, TORCH_LOAD):
        return []
    arg = call.keyword(WEIGHTS_ONLY)
    if arg is None and not any(a.name == "**" for a in call.args):
        plan.changes.append(_note(call.func_span, f"{call.written}: weights_only=True"))
        return [_Want(call.span.start, WEIGHTS_ONLY, "True")]
    if arg is not None and arg.value is not True:
        plan.notes.append(_note(arg.span, f"{call.written}: weights_only is given explicitly; left as written"))
    return []


def _offset(starts: list[int], pos: Pos) -> int:
    return starts[pos.line] + pos.col


def apply_edits(text: str, edit_list: list[Edit]) -> str:
    """``text`` with ``edit_list`` applied (spans in code points, Python's line breaks)."""
    breaks = list(_LINE_BREAK.finditer(text))
    starts = [0] + [m.end() for m in breaks]
    newline = breaks[0].group() if breaks else "\n"  # an inserted line break follows the file's own
    out = text
    for span, new in sorted(edit_list, key=lambda e: (e[0].line, e[0].col), reverse=True):
        begin, end = _offset(starts, span.start), _offset(starts, span.end)
        out = out[:begin] + new.replace("\n", newline) + out[end:]
    return out


def _calls(text: str, cache: BlockCache) -> dict[Pos, CallSite]:
    analysis = analyze_code(text, cache)
    calls: dict[Pos, CallSite] = {}
    for ref in analysis.refs:
        if ref.call is not None:
            calls[ref.call.span.start] = ref.call
    for load in analysis.loads:
        if load.call is not None:
            calls.setdefault(load.call.span.start, load.call)
    return calls


def plan_text(text: str, decide: Decide) -> FilePlan:
    """The edits ``malhug pin`` makes to ``text`` and the edited text; never raises on bad input."""
    plan = FilePlan(text=text, new_text=text)
    plan.error = round_trip_error(text)
    if plan.error is not None:
        return plan
    cache = BlockCache()
    src = SourceLines(text)
    analysis = analyze_code(text, cache)
    wants: list[_Want] = []
    for ref in analysis.refs:
        wants += _ref_wants(ref, src, decide, plan)
    for load in analysis.loads:
        if load.rule == TORCH_LOAD and load.call is not None:
            wants += _load_wants(load.call, src, plan)
    if len(wants) > MAX_EDITS_PER_FILE:
        plan.error = f"more than {MAX_EDITS_PER_FILE} edits; left as it is"
        return plan
    # Last call first: an edit inside a call never moves its own start nor that of a call before it.
    current = text
    for want in sorted(wants, key=lambda w: w.call_start, reverse=True):
        call = _calls(current, cache).get(want.call_start)
        if call is None:
            plan.error = f"lost track of the call at line {want.call_start.line + 1}; left as it is"
            return plan
        current = apply_edits(current, set_keyword(call, SourceLines(current), want.name, want.value))
    if current != text:
        error = round_trip_error(current)
        if error is not None:
            plan.error = f"the edited text would not be valid ({error}); left as it is"
            return plan
    plan.new_text = current
    return plan


# IPython syntax that is not Python: a line magic or shell escape, ``name?`` help.
_MAGIC_LINE = re.compile(r"^\s*(?:[%!]|[\w.]+\?{1,2}\s*$)")


def _masked(line: str) -> str:
    stripped = line.lstrip()
    return line[: len(line) - len(stripped)] + "#" + stripped[1:]


def _mask_magics(source: str) -> tuple[str, list[str]]:
    """IPython magics and shell escapes (``%pip``, ``!ls``) as comments, so the cell parses; the originals."""
    lines = source.split("\n")
    masked = []
    for i, line in enumerate(lines):
        if _MAGIC_LINE.match(line):
            masked.append(line)
            lines[i] = _masked(line)
    return "\n".join(lines), masked


def _unmask(text: str, originals: list[str]) -> str:
    """Put the masked lines back, in order (edits only touch calls, never a whole comment line)."""
    lines = text.split("\n")
    pending = list(originals)
    for i, line in enumerate(lines):
        if not pending:
            break
        if line == _masked(pending[0]):
            lines[i] = pending.pop(0)
    return "\n".join(lines)


def _notebook_dump(data: object) -> str:
    # nbformat's own layout (what Jupyter writes): one-space indent, UTF-8 kept, a final newline.
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def plan_notebook(text: str, decide: Decide) -> FilePlan:
    """``plan_text`` for each code cell of a ``.ipynb``; written back only in nbformat's exact layout."""
    plan = FilePlan(text=text, new_text=text)
    try:
        data = json.loads(text)
    except ValueError as exc:
        plan.error = f"not a notebook (broken JSON: {exc})"
        return plan
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        plan.error = "not a notebook (no cells)"
        return plan
    if _notebook_dump(data) != text:
        plan.error = "the notebook is not in nbformat's layout, so it cannot be rewritten exactly"
        return plan
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source")
        source = "".join(raw) if isinstance(raw, list) and all(isinstance(s, str) for s in raw) else raw
        if not isinstance(source, str) or source.lstrip().startswith("%%"):
            continue  # not code, or a cell magic (%%bash, %%writefile): not Python
        masked, originals = _mask_magics(source)
        cell_plan = plan_text(masked, decide)
        for mine, theirs in (
            (plan.changes, cell_plan.changes),
            (plan.problems, cell_plan.problems),
            (plan.notes, cell_plan.notes),
        ):
            mine.extend(Note(n.line, n.column, f"cell {number}: {n.message}") for n in theirs)
        if cell_plan.error is not None:
            plan.problems.append(Note(1, 1, f"cell {number}: left untouched: {cell_plan.error}"))
        elif cell_plan.changed:
            new = _unmask(cell_plan.new_text, originals)
            cell["source"] = new.splitlines(keepends=True) if isinstance(raw, list) else new
    plan.new_text = _notebook_dump(data)
    return plan
