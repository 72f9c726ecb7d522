"""The hub layer: the one part of MalHug that talks to the network (Hugging Face Hub and mirrors).

- ``client.HubClient``: ``scan_repo`` / ``cached_scan`` / ``find_safe_revision`` (the CLI's and the
  language server's entry point; errors come back in the results, never raised).
- ``settings``: endpoint, token, offline mode and HF cache folder, read from the environment at call time.
- ``http``: requests with time-outs, bounded 429/5xx retries honouring ``Retry-After``, clear errors.
- ``remote``: revision info (with the Hub's ``securityStatus``), file listing, per-file status, history.
- ``select``: which files loading can run code from, decided from names; which code loading runs.
- ``rangesource``: a ``ByteSource`` over HTTP ``Range`` reads with a per-file download budget.
- ``scanner``: scans one revision's files from the verdict cache, the local HF cache or the network.
- ``localcache``: the local Hugging Face cache (snapshots, refs, blobs) without the network.
- ``cache.VerdictCache``: SQLite verdicts by content id and by (repo, commit), shared by processes.
- ``cli``: ``hf:`` targets and ``--hf-cache`` for ``malhug scan``.
- ``types``: ``RepoScan`` and ``SafeRevision``, the contract with the CLI and the language server.
"""
