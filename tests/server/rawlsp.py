"""A raw stdio client for ``malhug lsp``: writes any bytes (broken frames included), reads framed replies.

pytest-lsp cannot send a malformed frame, so the hostile-input tests drive the server through a plain
subprocess pipe. A reader thread splits the server's stdout into messages.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from tests.server.harness import SERVER, server_env


def frame(body: bytes | str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def message(obj: dict[str, Any]) -> bytes:
    return frame(json.dumps(obj))


class RawServer:
    def __init__(self, tmp: Path, **env: str):
        self.proc = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server_env(tmp, **env),
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self._next_id = 1000

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line == b"\r\n":
                    break
            assert length is not None
            self.messages.put(json.loads(out.read(length)))

    def _drain_stderr(self) -> None:
        err = self.proc.stderr
        assert err is not None
        for line in err:
            self.stderr.append(line)

    # --- sending
    def write(self, data: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(data)
        stdin.flush()

    def send(self, obj: dict[str, Any]) -> None:
        self.write(message(obj))

    def request(self, method: str, params: Any = None, *, raw_params: bool = False) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None or raw_params:
            msg["params"] = params
        self.send(msg)
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    # --- receiving
    def wait(self, predicate: Any, timeout: float = 20.0, what: str = "a message") -> dict[str, Any]:
        for msg in self.seen:
            if predicate(msg):
                self.seen.remove(msg)
                return msg
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; server alive: {self.proc.poll() is None}")
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg
            self.seen.append(msg)
            # a request from the server (configuration, registration, progress): answer it with null
            if "method" in msg and "id" in msg:
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

    def reply(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        return self.wait(lambda m: m.get("id") == msg_id and "method" not in m, timeout, f"the reply to {msg_id!r}")

    def error(self, code: int, timeout: float = 20.0) -> dict[str, Any]:
        return self.wait(
            lambda m: "error" in m and "method" not in m and m["error"].get("code") == code,
            timeout,
            f"an error {code}",
        )

    def initialize(self, root: Path, options: Any = None) -> dict[str, Any]:
        root.mkdir(parents=True, exist_ok=True)
        params = {
            "processId": None,
            "rootUri": root.as_uri(),
            "capabilities": {},
            "initializationOptions": options if options is not None else {"malhug": {"debounceMs": 0}},
        }
        result = self.reply(self.request("initialize", params))
        self.notify("initialized", {})
        return result

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.reply(self.request("shutdown"), timeout=10)
                self.notify("exit")
                self.proc.wait(timeout=10)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


# --- the seed corpus of broken frames (also fed to tests/fuzz/test_fuzz_lsp.py)

NEXT = {
    "jsonrpc": "2.0",
    "id": 99,
    "method": "textDocument/hover",
    "params": {"textDocument": {"uri": "file:///nowhere/x.py"}, "position": {"line": 0, "character": 0}},
}
BODY = json.dumps(NEXT).encode()

BROKEN_FRAMES = {
    "length-not-a-number": b"Content-Length: abc\r\n\r\n" + BODY,
    "length-negative": b"Content-Length: -5\r\n\r\n" + BODY,
    "no-length-header": b"Content-Type: application/vscode-jsonrpc\r\n\r\n" + BODY,
    "length-too-short": b"Content-Length: %d\r\n\r\n" % (len(BODY) - 9) + BODY,
    "length-too-long": b"Content-Length: %d\r\n\r\n" % (len(BODY) + 500) + BODY,
    "length-2^40": b"Content-Length: %d\r\n\r\n" % 2**40 + BODY,
    "length-2^70-digits": b"Content-Length: %d\r\n\r\n" % 2**70 + BODY,
    "no-blank-line": b"Content-Length: %d\r\n" % len(BODY) + BODY,
    "body-not-json": frame(b"{this is not json"),
    "body-bad-utf8": frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe"}'),
    "body-deep-nesting": frame(b"[" * 100_000),
    "body-nan": frame(b'{"jsonrpc": "2.0", "id": 5, "method": "shutdown", "params": NaN}'),
    "header-garbage": b"\x00\xff" * 5000 + b"\r\n\r\n",
    "endless-header-line": b"X-Junk: " + b"a" * 200_000 + b"\r\n\r\n",
}


class Sink:
    """A writer for the server's protocol that keeps what it was sent (in-process tests)."""

    def __init__(self) -> None:
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def close(self) -> None:
        pass
