"""``malhug monitor``: keep an up-to-date verdict for every repository of a hub, an organisation or a list.

A layer beside the language server: it uses the hub layer (listing, scanning, the verdict cache) and
is used by the CLI only. ``store`` keeps everything durable (SQLite or PostgreSQL), ``discover``
lists what changed, ``run`` scans it through an executor, ``webhook`` enqueues pushes as they happen.
"""
