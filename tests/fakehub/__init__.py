"""A fake Hugging Face Hub on 127.0.0.1, for tests, the demo and benchmarks (see README.md).

>>> with FakeHub(tmp_path) as hub:                       # doctest: +SKIP
...     repo = hub.repo("org/model")
...     sha = repo.commit({"config.json": "{}", "pytorch_model.bin": data}, title="init")
...     HfApi(endpoint=hub.endpoint).list_repo_tree("org/model")
...     hub.bytes_served()                              # body bytes sent so far, both origins
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakehub.generated import GeneratedBackend, HubSpec
from tests.fakehub.ratelimit import RateLimiter
from tests.fakehub.server import CdnHandler, Fault, HubHandler, Request, State, start_server
from tests.fakehub.store import FakeRepo, SparseFile, git_blob_id
from tests.fakehub.webhooks import Delivery, Hook, deliver, payload

__all__ = [
    "FakeHub", "FakeRepo", "HubSpec", "Request", "SparseFile", "git_blob_id", "keep_huggingface_hub_local",
]  # fmt: skip


def keep_huggingface_hub_local() -> None:
    """Stop huggingface_hub (in this process) from fetching its agent registry from the public Hub.

    ``hf_hub_download`` and other calls build a user agent that looks up ``<HF_ENDPOINT at import
    time>/api/agent-harnesses`` once per process, which is huggingface.co unless ``HF_ENDPOINT`` was
    set before import. Tests and benchmarks call this before using huggingface_hub's own functions
    against the fake Hub; subprocesses get ``HF_ENDPOINT`` (the fake Hub answers that route) or
    ``HF_HUB_DISABLE_TELEMETRY=1`` instead.
    """
    from huggingface_hub.utils import _detect_agent

    _detect_agent._registry = {"standardEnvVars": [], "harnesses": {}}


class FakeHub:
    """Two HTTP servers on free ports: the Hub API (``endpoint``) and the LFS "CDN" (``cdn_endpoint``).

    Repositories live under ``root`` (a temporary folder when not given) in the layout described in
    ``tests/fakehub/store.py``; they are read from disk on every request, so a test may add commits
    while the server runs.
    """

    def __init__(
        self, root: str | Path | None = None, *, port: int = 0, cdn_port: int = 0, generated: HubSpec | None = None
    ):
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fakehub-")
            root = self._tmp.name
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = State(self.root)
        self.generated: GeneratedBackend | None = None
        if generated is not None:
            self.generated = GeneratedBackend(generated, self.state.hashes, self.root / ".generated-scratch")
            self.state.backend = self.generated
        self._port, self._cdn_port = port, cdn_port
        self._servers: list[Any] = []

    # --- lifecycle
    def start(self) -> FakeHub:
        cdn = start_server(CdnHandler, self.state, self._cdn_port)
        hub = start_server(HubHandler, self.state, self._port)
        self._servers = [hub, cdn]
        self.state.hub_url = f"http://127.0.0.1:{hub.server_address[1]}"
        self.state.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []
        if self.generated is not None:
            self.generated.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """The Hub origin, e.g. ``http://127.0.0.1:40123`` (pass as ``endpoint=`` or ``HF_ENDPOINT``)."""
        return self.state.hub_url

    @property
    def cdn_endpoint(self) -> str:
        return self.state.cdn_url

    @property
    def list_page_size(self) -> int:
        """Repos per page of ``/api/models`` and ``/api/datasets`` (1000, as on the Hub; tests lower it)."""
        return self.state.list_page_size

    @list_page_size.setter
    def list_page_size(self, value: int) -> None:
        self.state.list_page_size = value

    # --- repositories
    def repo(self, repo_id: str, repo_type: str = "model", **settings: Any) -> FakeRepo:
        """Create or open a repository; settings: ``private``, ``gated``, ``tokens``, ``security``."""
        repo = FakeRepo(self.root, repo_id, repo_type, **settings)
        repo.on_commit = lambda r, old, new: self._notify(r.repo_type, r.repo_id, old, new, r.private_flag())
        return repo

    # --- generated hub (tests/fakehub/generated.py)
    def commit_share(self, share: float, *, seed: int = 1) -> list[tuple[str, str, str, str]]:
        """New commits on ``share`` of the generated repos of each type; webhooks fire for each.
        Returns ``(type, id, old sha, new sha)``."""
        if self.generated is None:
            raise RuntimeError("commit_share needs FakeHub(generated=HubSpec(...))")
        done = self.generated.commit_share(share, seed)
        for repo_type, repo_id, old, new in done:
            self._notify(repo_type, repo_id, old, new, False)
        return done

    def commit_generated(self, repo_type: str, index: int) -> tuple[str, str, str]:
        """One new commit on generated repo ``index``; returns (id, old sha, new sha)."""
        if self.generated is None:
            raise RuntimeError("commit_generated needs FakeHub(generated=HubSpec(...))")
        repo_id, old, new = self.generated.commit(repo_type, index)
        self._notify(repo_type, repo_id, old, new, False)
        return repo_id, old, new

    # --- rate limits and webhooks
    def rate_limit(
        self,
        *,
        api: int | None = None,
        resolvers: int | None = None,
        window: float = 300.0,
        clock: Callable[[], float] | None = None,
    ) -> RateLimiter | None:
        """Fixed-window limits per client with the Hub's ``RateLimit`` headers (tests/fakehub/ratelimit.py);
        no limits given: off."""
        limits = {k: v for k, v in (("api", api), ("resolvers", resolvers)) if v is not None}
        limiter = RateLimiter(limits, window, clock or time.monotonic) if limits else None
        self.state.rate = limiter
        return limiter

    def webhook(self, url: str, secret: str) -> str:
        """POST the Hub's webhook payload to ``url`` on every commit (tests/fakehub/webhooks.py)."""
        hook = Hook(url, secret, f"hook{len(self.state.hooks) + 1:04d}")
        with self.state.lock:
            self.state.hooks.append(hook)
        return hook.hook_id

    def webhook_deliveries(self) -> list[Delivery]:
        with self.state.lock:
            return list(self.state.deliveries)

    def _notify(self, repo_type: str, repo_id: str, old: str | None, new: str, private: bool) -> None:
        with self.state.lock:
            hooks = list(self.state.hooks)
        for hook in hooks:
            status = deliver(hook, payload(hook, self.endpoint, repo_type, repo_id, old, new, private))
            with self.state.lock:
                self.state.deliveries.append(Delivery(hook.url, repo_type, repo_id, new, status))

    # --- totals (kept even when the request log is off)
    def keep_log(self, keep: bool) -> None:
        """False: stop logging requests one by one (``totals()`` still counts); for long benchmarks."""
        self.state.keep_log = keep

    def totals(self) -> dict[str, int]:
        """``api_calls``, ``file_calls`` (resolve), ``cdn_calls``, ``file_bytes``, ``api_bytes``, ``rate_limited``."""
        with self.state.lock:
            return dict(self.state.totals)

    # --- fault injection
    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = 0, match: str = "") -> None:
        """Answer ``status`` (with ``Retry-After``) to the next ``count`` requests whose path contains ``match``."""
        with self.state.lock:
            self.state.faults.append(Fault(remaining=count, status=status, retry_after=retry_after, match=match))

    def slow_down(self, seconds: float, *, match: str = "") -> None:
        """Sleep ``seconds`` before answering requests whose path contains ``match`` (0 clears all delays)."""
        with self.state.lock:
            if seconds <= 0:
                self.state.delays.clear()
            else:
                self.state.delays.append((seconds, match))

    def hostile(self, mode: str, *, match: str = "", remaining: int | None = None, **options: Any) -> None:
        """Answer requests whose path contains ``match`` as a hostile server would (modes and options:
        ``tests/fakehub/hostile.py``); ``remaining`` bounds how many requests get it (None: all)."""
        from tests.fakehub.hostile import Hostile

        with self.state.lock:
            self.state.hostile.append(Hostile(mode, match=match, remaining=remaining, **options))

    def pad_tree(self, count: int) -> None:
        """List ``count`` synthetic small text files before every tree's real files (generated per page)."""
        with self.state.lock:
            self.state.tree_padding = count

    def add_tree_entries(self, entries: list[dict[str, Any]]) -> None:
        """Raw entries appended to every tree listing (names no real Hub accepts, for instance)."""
        with self.state.lock:
            self.state.tree_extra.extend(entries)

    def reset_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
            self.state.delays.clear()
            self.state.hostile.clear()
            self.state.tree_padding = 0
            self.state.tree_extra.clear()

    # --- request log
    def requests(self, where: Callable[[Request], bool] | None = None) -> list[Request]:
        with self.state.lock:
            log = list(self.state.log)
        return [r for r in log if where is None or where(r)]

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def bytes_served(self, *, file_only: bool = False, match: str = "") -> int:
        """Body bytes sent. ``file_only`` counts file content (resolve + CDN), not API JSON."""

        def wanted(r: Request) -> bool:
            is_file = r.server == "cdn" or "/resolve/" in r.path
            return match in r.path and (is_file or not file_only)

        return sum(r.body_bytes for r in self.requests(wanted))
