"""``python -m tests.fakehub --root DIR [--port N] [--cdn-port M]``: serve a folder of repositories."""

from __future__ import annotations

import argparse
import sys

from tests.fakehub import FakeHub
from tests.fakehub.signals import wait_for_signal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakehub", description="Serve a fake Hugging Face Hub on 127.0.0.1."
    )
    parser.add_argument("--root", required=True, help="folder of repositories (layout: tests/fakehub/store.py)")
    parser.add_argument("--port", type=int, default=0, help="Hub API port (0: a free one)")
    parser.add_argument("--cdn-port", type=int, default=0, help="LFS CDN port (0: a free one)")
    args = parser.parse_args(argv)
    with FakeHub(args.root, port=args.port, cdn_port=args.cdn_port) as hub:
        # The first line is machine-readable: tools wait for it and read the endpoint from it.
        print(f"HF_ENDPOINT={hub.endpoint} CDN={hub.cdn_endpoint}", flush=True)
        wait_for_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
