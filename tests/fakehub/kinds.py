"""The files of one ordinary generated repository, per kind (see ``tests.fakehub.content``).

``weights_of`` is the repo whose weights this one carries: itself, or for a fork its parent (same bytes,
same LFS sha256). ``n`` is the commit number (1 for the first); later commits change the config and,
every other time, the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakehub.content import SIZES, Blob, Templates, safetensors, torch_zip, zip_with_comment


def _keras(scratch: Path) -> bytes:
    from tests.builders.benign import keras_v3_dense

    return keras_v3_dense(scratch)


def _gguf(scratch: Path) -> bytes:
    from tests.builders.benign import gguf_llama3

    return gguf_llama3(scratch)


def _modeling(scratch: Path) -> bytes:
    from tests.builders.benign import modeling_script

    return modeling_script(scratch)


def _dataset_script(scratch: Path) -> bytes:
    from tests.builders.benign import dataset_script

    return dataset_script(scratch)


def _chat_template(scratch: Path) -> bytes:
    from tests.builders.benign import LLAMA3_TEMPLATE

    return LLAMA3_TEMPLATE.encode()


def model_files(
    kind: str, index: int, weights_of: int, n: int, t: Templates, sizes: tuple[int, ...] = SIZES
) -> dict[str, Blob]:
    """Files of model repo ``index`` at commit ``n``."""
    # Weights change on commits 2, 4, ...; a fork carries its parent's first weights whatever its commit.
    version = weights_of * 1000 + (n // 2 if weights_of == index else 0)
    size = sizes[weights_of % len(sizes)]
    config = {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "_name_or_path": f"m{index}", "rev": n}
    files: dict[str, Blob] = {"README.md": Blob.of(f"# model {index}\n\nrevision {n}\n".encode())}
    if kind == "torch":
        files["pytorch_model.bin"] = torch_zip(t, f"model_{version}", size)
    elif kind == "safetensors":
        files["model.safetensors"] = safetensors(size, f"weights {version}")
    elif kind == "keras":
        files["model.keras"] = Blob.of(zip_with_comment(t.get("keras", _keras), f"weights {version}".encode()))
    elif kind == "gguf":
        files["model.gguf"] = Blob.of(t.get("gguf", _gguf))  # shared by every GGUF repo: a re-upload
    elif kind == "tokenizer":
        chat = t.get("chat", _chat_template).decode()
        tok = {"model_max_length": 2048, "chat_template": chat, "bos_token": "<s>", "name": f"tok{index}"}
        files["tokenizer_config.json"] = Blob.of(json.dumps(tok).encode())
        files["special_tokens_map.json"] = Blob.of(b'{"bos_token": "<s>", "eos_token": "</s>"}')
        files["model.safetensors"] = safetensors(size, f"weights {version}")
    elif kind == "remote-code":
        config["auto_map"] = {"AutoConfig": "modeling_tiny.TinyConfig", "AutoModel": "modeling_tiny.TinyModel"}
        code = t.get("modeling", _modeling) + f"\n# variant {index}\n".encode()
        files["modeling_tiny.py"] = Blob.of(code)
        files["model.safetensors"] = safetensors(size, f"weights {version}")
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    files["config.json"] = Blob.of(json.dumps(config).encode())
    return files


def dataset_files(kind: str, index: int, n: int, t: Templates) -> dict[str, Blob]:
    """Files of dataset repo ``index`` at commit ``n``: data files, or a loading script."""
    rows = "".join(f"{index},{r},example text {r}\n" for r in range(20 + n))
    files: dict[str, Blob] = {
        "README.md": Blob.of(f"---\nlicense: mit\n---\n# dataset {index}\n".encode()),
        "data/train.csv": Blob.of(f"id,row,text\n{rows}".encode()),
    }
    if kind == "script":
        files[f"dataset_{index}.py"] = Blob.of(t.get("script", _dataset_script) + f"\n# revision {n}\n".encode())
    elif kind == "data":
        files["data/test.jsonl"] = Blob.of(b"".join(b'{"id": %d, "text": "t"}\n' % r for r in range(5 + n)))
    else:
        raise ValueError(f"unknown dataset kind {kind!r}")
    return files
