"""``python -m tests.fakehub --root DIR [--port N] [--cdn-port M] [--generated MODELS:DATASETS --seed S]
[--rate-limit API:RESOLVERS]``: serve a folder of repositories, or a generated hub."""

from __future__ import annotations

import argparse
import sys

from tests.fakehub import FakeHub, HubSpec
from tests.fakehub.signals import wait_for_signal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakehub", description="Serve a fake Hugging Face Hub on 127.0.0.1."
    )
    parser.add_argument("--root", required=True, help="folder of repositories (layout: tests/fakehub/store.py)")
    parser.add_argument("--port", type=int, default=0, help="Hub API port (0: a free one)")
    parser.add_argument("--cdn-port", type=int, default=0, help="LFS CDN port (0: a free one)")
    parser.add_argument("--generated", help="MODELS:DATASETS: serve a generated hub (tests/fakehub/generated.py)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated hub")
    parser.add_argument("--no-cases", action="store_true", help="generated hub without the 100 real-world cases")
    parser.add_argument("--rate-limit", help="API:RESOLVERS requests per 300 s window and client")
    args = parser.parse_args(argv)
    spec = None
    if args.generated:
        models, _, datasets = args.generated.partition(":")
        spec = HubSpec(seed=args.seed, models=int(models), datasets=int(datasets or 0), cases=not args.no_cases)
    with FakeHub(args.root, port=args.port, cdn_port=args.cdn_port, generated=spec) as hub:
        hub.keep_log(spec is None)
        if args.rate_limit:
            api, _, resolvers = args.rate_limit.partition(":")
            hub.rate_limit(api=int(api), resolvers=int(resolvers) if resolvers else None)
        # The first line is machine-readable: tools wait for it and read the endpoint from it.
        print(f"HF_ENDPOINT={hub.endpoint} CDN={hub.cdn_endpoint}", flush=True)
        wait_for_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
