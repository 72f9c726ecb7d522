"""Draws the extension icon (client-vscode/media/icon.png, 128x128) with numpy and zlib only.

A yellow shield on a dark rounded square with a dark exclamation mark: "this model may bite".
Run: .venv/bin/python tools/make_icon.py
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

SIZE = 128
OUT = Path(__file__).resolve().parent.parent / "client-vscode" / "media" / "icon.png"


def _coverage(mask_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], ss: int = 4) -> np.ndarray:
    """Anti-aliased coverage of a shape given as a function of pixel-centre coordinates."""
    offsets = (np.arange(ss) + 0.5) / ss
    acc = np.zeros((SIZE, SIZE))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    for dy in offsets:
        for dx in offsets:
            acc += mask_fn(xs + dx, ys + dy)
    return acc / (ss * ss)


def rounded_square(x: np.ndarray, y: np.ndarray, r: float = 24.0) -> np.ndarray:
    cx = np.clip(x, r, SIZE - r)
    cy = np.clip(y, r, SIZE - r)
    return ((x - cx) ** 2 + (y - cy) ** 2) <= r * r


def shield(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    top, bottom, half = 20.0, 112.0, 38.0
    upper = (y >= top) & (y <= 70) & (np.abs(x - 64) <= half)
    t = np.clip((y - 70) / (bottom - 70), 0, 1)
    lower = (y > 70) & (y <= bottom) & (np.abs(x - 64) <= half * np.sqrt(1 - t**2))
    return upper | lower


def exclamation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    bar = (np.abs(x - 64) <= 6) & (y >= 34) & (y <= 76)
    dot = (x - 64) ** 2 + (y - 91) ** 2 <= 7.5**2
    return bar | dot


def render() -> bytes:
    layers = [
        (_coverage(rounded_square), (0x1E, 0x23, 0x33)),
        (_coverage(shield), (0xFF, 0xC4, 0x2E)),
        (_coverage(exclamation), (0x1E, 0x23, 0x33)),
    ]
    rgb = np.zeros((SIZE, SIZE, 3))
    alpha = layers[0][0]
    for cov, color in layers:
        rgb = rgb * (1 - cov[..., None]) + np.array(color, float) * cov[..., None]
    rgba = np.dstack([rgb, alpha * 255]).round().clip(0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(SIZE))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(render())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
