"""A killable helper process for C libraries that a time limit cannot stop (libhdf5 through h5py).

``ctx.check_time()`` only runs between Python statements: a loop inside a C library never reaches it,
and an allocation inside C is not bounded by anything MalHug checks. Such a library runs in a
``WorkerProcess`` instead: a fresh interpreter (spawned, never forked: no state of the scanning process
is shared), isolated (``-I``: no current directory on ``sys.path``, so a scanned folder's ``h5py.py``
is never imported; ``cwd`` is ``/``), with a memory limit (``RLIMIT_AS``, set by the worker for each
job) and no right to grow a file (``RLIMIT_FSIZE`` 0). The parent talks to it over pipes in frames
and waits with a deadline; on time-out, a protocol violation or death it kills the process, and the
next job starts a new one.

A frame is ``>IB`` (payload length, kind) followed by the payload. Both sides bound what they accept.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time

HEADER = struct.Struct(">IB")


class WorkerTimeout(Exception):
    """The worker did not answer before the deadline (it is killed)."""


class WorkerDied(Exception):
    """The worker exited, was killed, or broke the protocol (it is killed)."""


def frame(kind: int, payload: bytes) -> bytes:
    return HEADER.pack(len(payload), kind) + payload


# The only variables a worker inherits: it needs no token, proxy or library setting of the scan.
CHILD_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")


def _child_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in CHILD_ENV if name in os.environ}
    # One thread per numeric library: thread pools reserve address space the memory limit counts.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


class WorkerProcess:
    """One running worker: ``python -I -c 'import <module>; <module>.main()'`` with framed pipes."""

    def __init__(self, module: str, max_frame: int):
        self.max_frame = max_frame
        paths = [p for p in sys.path if p and os.path.isabs(p) and p != os.getcwd()]
        code = f"import sys, json; sys.path[:] = json.loads(sys.argv[1]); import {module} as m; m.main()"
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code, json.dumps(paths)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=_child_env(),
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        self._buf = bytearray()
        self.owner = os.getpid()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def send(self, kind: int, payload: bytes, deadline: float) -> None:
        data = memoryview(frame(kind, payload))
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout("worker did not read its input in time")
            _, writable, _ = select.select([], [self._in], [], remaining)
            if not writable:
                continue
            try:
                written = os.write(self._in, data[: 1 << 20])
            except BlockingIOError:
                continue
            except OSError as exc:  # EPIPE: the worker is gone
                raise WorkerDied(self.exit_description()) from exc
            data = data[written:]

    def _fill(self, need: int, deadline: float) -> None:
        while len(self._buf) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout("worker did not answer in time")
            readable, _, _ = select.select([self._out], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(self._out, max(need - len(self._buf), 1 << 16))
            if not chunk:
                raise WorkerDied(self.exit_description())
            self._buf += chunk

    def recv(self, deadline: float) -> tuple[int, bytes]:
        self._fill(HEADER.size, deadline)
        length, kind = HEADER.unpack_from(self._buf)
        if length > self.max_frame:
            raise WorkerDied(f"worker sent a frame of {length} bytes (limit {self.max_frame})")
        self._fill(HEADER.size + length, deadline)
        payload = bytes(self._buf[HEADER.size : HEADER.size + length])
        del self._buf[: HEADER.size + length]
        return kind, payload

    def exit_description(self) -> str:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "worker closed its output but is still running"
        if code < 0:
            try:
                return f"worker killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"worker killed by signal {-code}"
        return f"worker exited with status {code}"

    def kill(self) -> None:
        """Kill and reap the process (only the one this object started)."""
        if self.owner != os.getpid():
            return  # a forked copy of the parent: the worker belongs to the original process
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class ChildChannel:
    """The worker's side: blocking frames on its own copies of stdin and stdout.

    Standard output is moved to standard error first, so nothing a C library prints can corrupt the
    protocol.
    """

    def __init__(self, max_frame: int):
        self.max_frame = max_frame
        self._in = os.dup(0)
        self._out = os.dup(1)
        os.dup2(2, 1)
        os.dup2(2, 0)

    def _read_exact(self, n: int) -> bytes | None:
        parts = bytearray()
        while len(parts) < n:
            chunk = os.read(self._in, n - len(parts))
            if not chunk:
                return None
            parts += chunk
        return bytes(parts)

    def recv(self) -> tuple[int, bytes] | None:
        """The next frame, or None when the parent has gone."""
        head = self._read_exact(HEADER.size)
        if head is None:
            return None
        length, kind = HEADER.unpack(head)
        if length > self.max_frame:
            return None
        payload = self._read_exact(length)
        return None if payload is None else (kind, payload)

    def send(self, kind: int, payload: bytes) -> None:
        data = memoryview(frame(kind, payload))
        while data:
            data = data[os.write(self._out, data) :]


def limit_child(memory_bytes: int) -> None:
    """Called by a worker on itself: address space at most ``memory_bytes``, no file growth, no core."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
