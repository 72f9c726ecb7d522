"""Where verdict-change events go besides the store: a JSON-lines file and a command run per event.

The command is split like a shell would (``shlex``) but run without a shell; it gets the event's JSON
on stdin. A failing or slow command is logged and recorded in the store's errors, never stops a run.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from malhug.monitor.store import Store
from malhug.monitor.store.ops import Event

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EventSink:
    store: Store
    events_file: Path | None = None
    on_event: str | None = None

    def emit(self, event: Event) -> None:
        line = json.dumps(event.to_dict(), sort_keys=True)
        log.warning(
            "event %s: %s %s@%s %s -> %s",
            event.kind,
            event.repo_type,
            event.repo_id,
            (event.sha or "")[:12],
            event.old_verdict,
            event.new_verdict,
        )
        if self.events_file is not None:
            with self.events_file.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        if self.on_event:
            self._run(line)

    def _run(self, line: str) -> None:
        assert self.on_event is not None
        try:
            done = subprocess.run(
                shlex.split(self.on_event),
                input=line + "\n",
                text=True,
                capture_output=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            log.error("--on-event command failed: %s", exc)
            self.store.note_error("on-event", f"{self.on_event!r}: {exc}")
            return
        if done.returncode != 0:
            log.error("--on-event command exited %d: %s", done.returncode, done.stderr.strip()[:500])
            self.store.note_error("on-event", f"{self.on_event!r} exited {done.returncode}")
