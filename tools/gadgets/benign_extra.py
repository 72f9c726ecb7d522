"""Benign files of the libraries the main venv does not have (pandas, transformers), written by the
real libraries: run by the ``.venv-gadgets`` interpreter, which has them pinned
(``requirements/gadgets.txt``). ``tools/gadgets/allowlist.py`` measures the globals they import.

    .venv-gadgets/bin/python -m tools.gadgets.benign_extra OUT_DIR

Nothing is loaded: the files are only written.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _pandas() -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "a": np.arange(6, dtype="int64"),
            "b": np.linspace(0, 1, 6),
            "c": pd.Categorical(list("xyzxyz")),
            "d": pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC"),
            "e": ["s"] * 6,
        }
    ).set_index("a")
    return {
        "pandas_frame.pkl": frame,
        "pandas_series.pkl": pd.Series([1.5, None, 3.0], index=pd.Index(["x", "y", "z"]), name="s"),
        "pandas_multiindex.pkl": pd.DataFrame(
            {"v": [1, 2, 3, 4]}, index=pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
        ),
        "pandas_period_interval.pkl": pd.DataFrame(
            {"p": pd.period_range("2024-01", periods=3, freq="M"), "i": pd.interval_range(0, 3)}
        ),
        "pandas_timedelta_sparse.pkl": pd.DataFrame(
            {"t": pd.to_timedelta([1, 2, 3], unit="s"), "s": pd.arrays.SparseArray([0.0, 0.0, 1.0])}
        ),
    }


def _transformers() -> dict[str, Any]:
    import torch
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, TrainingArguments

    torch.manual_seed(0)
    bert = BertModel(
        BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    )
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=1, n_head=2, n_positions=32))
    args = TrainingArguments(output_dir="out", report_to=[], per_device_train_batch_size=2)
    return {
        "transformers_bert_state_dict.bin": ("torch", bert.state_dict()),
        "transformers_gpt2_state_dict.bin": ("torch", gpt2.state_dict()),
        "transformers_bert_whole.bin": ("torch", bert),
        "transformers_training_args.bin": ("torch", args),
        "transformers_bert_config.pkl": bert.config,
        "torch_optimizer_scheduler.pt": ("torch", _optimizer(bert)),
    }


def _optimizer(model: Any) -> dict[str, Any]:
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=[lambda _: 1.0] * len(opt.param_groups))
    return {"optimizer": opt.state_dict(), "scheduler": {"last_epoch": sched.last_epoch}, "step": 3}


def _bytes(obj: Any) -> bytes:
    if isinstance(obj, tuple) and obj[:1] == ("torch",):
        import torch

        buf = io.BytesIO()
        torch.save(obj[1], buf)
        return buf.getvalue()
    return pickle.dumps(obj, protocol=4)


BUILDERS: tuple[Callable[[], dict[str, Any]], ...] = (_pandas, _transformers)


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for builder in BUILDERS:
        for name, obj in builder().items():
            (out / name).write_bytes(_bytes(obj))
            print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
