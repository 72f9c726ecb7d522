"""Which keyword arguments each recognised loader accepts: ``revision``, ``use_safetensors``, ``weights_only``.

One table, shared by the editor's quick fixes and ``malhug pin``, so neither suggests an argument the
call would reject or ignore (``load_dataset`` has no ``use_safetensors``; a tokenizer loads no weights).

| loader (``HubRef.kind`` or call) | ``revision`` | ``use_safetensors`` | ``weights_only`` |
|---|---|---|---|
| ``from_pretrained`` of a model or pipeline class (transformers, diffusers) | yes | yes | no |
| ``from_pretrained`` of a tokenizer, config, processor, feature extractor, PEFT adapter | yes | no | no |
| ``pipeline`` (``model=``) | yes | no (only through ``model_kwargs``) | no |
| ``load_dataset`` and friends (a dataset or its loading script) | yes | no | no |
| ``hf_hub_download``, ``snapshot_download`` | yes | no | no |
| sentence-transformers (``SentenceTransformer``, ``CrossEncoder``, ``SparseEncoder``) | yes | no | no |
| an ``hf://`` / ``hf-hub:`` path | no (the revision is part of the path) | no | no |
| ``torch.load`` | no | no | yes |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from malhug.analyzers.usercode.callsites import CallSite

REVISION = "revision"
USE_SAFETENSORS = "use_safetensors"
WEIGHTS_ONLY = "weights_only"

# from_pretrained classes that load no model weights: use_safetensors means nothing to them.
_NO_WEIGHTS = ("Tokenizer", "Config", "Processor", "FeatureExtractor", "ImageProcessor", "Peft", "GenerationConfig")
_WEIGHT_LIBRARIES = ("transformers", "diffusers")


@dataclass(frozen=True)
class LoaderArgs:
    revision: bool = False
    use_safetensors: bool = False
    weights_only: bool = False

    def accepts(self, name: str) -> bool:
        return bool(getattr(self, name, False))


_BY_KIND = {
    "pipeline": LoaderArgs(revision=True),
    "load_dataset": LoaderArgs(revision=True),
    "hf_hub_download": LoaderArgs(revision=True),
    "snapshot_download": LoaderArgs(revision=True),
    "sentence-transformers": LoaderArgs(revision=True),
    "hf-path": LoaderArgs(),
}


def _loads_weights(call: CallSite) -> bool:
    """``X.from_pretrained``: X is a model or pipeline class of a library that has ``use_safetensors``."""
    parts = call.func.split(".")
    owner = parts[-2] if len(parts) >= 2 else ""
    if not owner or any(word in owner for word in _NO_WEIGHTS):
        return False
    root = parts[0]
    # ``from transformers import AutoModel`` canonicalises to transformers.AutoModel.from_pretrained;
    # a class of another library (or of the user's own code) is not known to accept the argument.
    return root in _WEIGHT_LIBRARIES


def loader_args(kind: str | None, call: CallSite | None) -> LoaderArgs:
    """What the loader at ``call`` accepts; ``kind`` is the reference's kind (None for a plain load)."""
    if call is None:
        return LoaderArgs()
    if kind == "from_pretrained":
        return LoaderArgs(revision=True, use_safetensors=_loads_weights(call))
    if kind is not None:
        return _BY_KIND.get(kind, LoaderArgs())
    if call.func == "torch.load":
        return LoaderArgs(weights_only=True)
    return LoaderArgs()


# What transformers and diffusers load instead of safetensors when ``use_safetensors`` is not set:
# pickled PyTorch weights (``pytorch_model*.bin``, ``diffusion_pytorch_model*.bin``).
SAFETENSORS_REPLACES = (".bin",)


def safetensors_removes_risk(args: LoaderArgs, files: Iterable[tuple[str, bool]]) -> bool:
    """Whether ``use_safetensors=True`` removes the risk of a revision: ``files`` are (path, scans clean).

    Only when the call accepts the argument, the revision has a clean ``.safetensors`` file to load
    instead, and every file that is not clean is one the flag makes the loader skip (not a loading
    script, remote code, a tokenizer pickle or a config).
    """
    if not args.use_safetensors:
        return False
    listed = list(files)
    has_clean_safetensors = any(path.endswith(".safetensors") and clean for path, clean in listed)
    bad = [path for path, clean in listed if not clean]
    return has_clean_safetensors and bool(bad) and all(path.endswith(SAFETENSORS_REPLACES) for path in bad)
