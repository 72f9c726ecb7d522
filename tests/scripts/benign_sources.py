"""Benign sources modelled on real dataset loading scripts and trust_remote_code files."""

GENERATOR_BUILDER = '''\
"""SQuAD-like dataset."""

import json
import os

import datasets

logger = datasets.logging.get_logger(__name__)

_CITATION = """@article{x, title={X}}"""
_DESCRIPTION = "Stanford Question Answering Dataset."
_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/"
_URLS = {
    "train": _URL + "train-v1.1.json",
    "dev": _URL + "dev-v1.1.json",
}


class SquadConfig(datasets.BuilderConfig):
    def __init__(self, **kwargs):
        super(SquadConfig, self).__init__(**kwargs)


class Squad(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIGS = [SquadConfig(name="plain_text", version=datasets.Version("1.0.0"), description="Plain text")]

    def _info(self):
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "context": datasets.Value("string"),
                    "answers": datasets.features.Sequence({"text": datasets.Value("string")}),
                }
            ),
            homepage="https://rajpurkar.github.io/SQuAD-explorer/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        downloaded_files = dl_manager.download_and_extract(_URLS)
        cache = os.environ.get("HF_DATASETS_CACHE", os.path.expanduser("~/.cache/huggingface/datasets"))
        logger.info("cache at %s", cache)
        return [
            datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"filepath": downloaded_files["train"]}),
            datasets.SplitGenerator(name=datasets.Split.VALIDATION, gen_kwargs={"filepath": downloaded_files["dev"]}),
        ]

    def _generate_examples(self, filepath):
        logger.info("generating examples from = %s", filepath)
        key = 0
        with open(filepath, encoding="utf-8") as f:
            squad = json.load(f)
            for article in squad["data"]:
                for paragraph in article["paragraphs"]:
                    context = paragraph["context"]
                    for qa in paragraph["qas"]:
                        yield key, {"id": qa["id"], "context": context, "answers": {"text": [a["text"] for a in qa["answers"]]}}
                        key += 1
'''

ARROW_BUILDER = """\
import os
import glob

import pyarrow as pa
import pyarrow.parquet as pq
import datasets


class ParquetShards(datasets.ArrowBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"text": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        data_dir = dl_manager.download_and_extract("https://example.org/shards.tar.gz")
        files = sorted(glob.glob(os.path.join(data_dir, "*.parquet")))
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"files": files})]

    def _generate_tables(self, files):
        for i, path in enumerate(files):
            table = pq.read_table(path)
            yield i, pa.Table.from_batches(table.to_batches())
"""

REQUESTS_PANDAS = """\
import io
import os

import datasets
import pandas as pd
import requests

_URL = "https://raw.githubusercontent.com/example/data/main/train.csv"
HF_TOKEN = os.environ.get("HF_TOKEN")


class ImageCaptions(datasets.GeneratorBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"url": datasets.Value("string"), "caption": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        response = requests.get(_URL, timeout=30)
        response.raise_for_status()
        frame = pd.read_csv(io.StringIO(response.text))
        meta = requests.get("https://huggingface.co/api/datasets/example/captions", headers={"authorization": f"Bearer {HF_TOKEN}"}).json()
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"frame": frame, "meta": meta})]

    def _generate_examples(self, frame, meta):
        for idx, row in frame.iterrows():
            image = requests.get(row["url"], timeout=10).content
            yield idx, {"url": row["url"], "caption": row["caption"], "size": len(image)}
"""

CONFIG_SUBCLASSES = """\
import csv
import json
import os

import datasets

_LANGS = ["en", "de", "fr"]


class XnliConfig(datasets.BuilderConfig):
    def __init__(self, language: str, **kwargs):
        super().__init__(name=language, version=datasets.Version("1.1.0"), **kwargs)
        self.language = language
        self.data_file = f"{language}.jsonl"


class Xnli(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = XnliConfig
    BUILDER_CONFIGS = [XnliConfig(language=lang) for lang in _LANGS]

    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"premise": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        archive = dl_manager.download(f"https://example.org/xnli/{self.config.data_file}")
        out_dir = os.path.join(dl_manager.manual_dir or ".", "cache")
        os.makedirs(out_dir, exist_ok=True)
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"path": archive, "out_dir": out_dir})]

    def _generate_examples(self, path, out_dir):
        index_path = os.path.join(out_dir, "index.json")
        with open(path, encoding="utf-8") as f, open(index_path, "w") as index:
            rows = [json.loads(line) for line in f]
            json.dump({"n": len(rows)}, index)
        for i, row in enumerate(rows):
            yield i, {"premise": row["premise"]}
        with open(os.path.join(out_dir, "labels.tsv"), newline="") as tsv:
            for row in csv.reader(tsv, delimiter="\\t"):
                pass
"""

SUBPROCESS_IMPORT_ONLY = """\
import subprocess  # imported but never used
import datasets


class Plain(datasets.GeneratorBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo()

    def _split_generators(self, dl_manager):
        return []
"""

MODELING = '''\
# coding=utf-8
"""PyTorch TinyLM model."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import logging

from .configuration_tinylm import TinyLMConfig

logger = logging.get_logger(__name__)


class TinyLMAttention(nn.Module):
    def __init__(self, config: TinyLMConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // self.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        b, t, c = hidden.shape
        q, k, v = self.qkv(hidden).split(c, dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            att = att.masked_fill(mask == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        return (self.out(att @ v),)


class TinyLMPreTrainedModel(PreTrainedModel):
    config_class = TinyLMConfig
    base_model_prefix = "model"

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)


class TinyLMModel(TinyLMPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([TinyLMAttention(config) for _ in range(config.num_hidden_layers)])
        self.post_init()

    def forward(self, input_ids, attention_mask=None):
        hidden = self.embed(input_ids)
        for layer in self.layers:
            hidden = layer(hidden, attention_mask)[0]
        return hidden

    @classmethod
    def from_checkpoint(cls, path):
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = cls(TinyLMConfig())
        model.load_state_dict(state)
        return model
'''

CONFIGURATION = """\
from transformers import PretrainedConfig


class TinyLMConfig(PretrainedConfig):
    model_type = "tinylm"

    def __init__(self, vocab_size=32000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, initializer_range=0.02, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.initializer_range = initializer_range
        super().__init__(**kwargs)
"""

TOKENIZER_WITH_ENV = """\
import os
import json
import platform

from transformers import PreTrainedTokenizer

VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}


class TinyTokenizer(PreTrainedTokenizer):
    vocab_files_names = VOCAB_FILES_NAMES

    def __init__(self, vocab_file, **kwargs):
        with open(vocab_file, encoding="utf-8") as f:
            self.encoder = json.load(f)
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.fast = os.getenv("TINY_FAST", "0") == "1" and platform.system() != "Windows"
        super().__init__(**kwargs)

    def save_vocabulary(self, save_directory, filename_prefix=None):
        path = os.path.join(save_directory, (filename_prefix or "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.encoder, f)
        return (path,)
"""

TAR_XML = """\
import os
import tarfile
import xml.etree.ElementTree as ET

import datasets

_URL = "https://example.org/corpus/ted-talks.tar.gz"


class TedTalks(datasets.GeneratorBasedBuilder):
    VERSION = datasets.Version("2.0.0")

    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"title": datasets.Value("string"), "text": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        archive = dl_manager.download(_URL)
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"files": dl_manager.iter_archive(archive)})]

    def _generate_examples(self, files):
        for path, f in files:
            if not path.endswith(".xml"):
                continue
            root = ET.fromstring(f.read())
            for i, talk in enumerate(root.iter("talk")):
                yield f"{os.path.basename(path)}-{i}", {"title": talk.findtext("title", ""), "text": talk.findtext("content", "")}
"""

URLLIB_ZIP = """\
import hashlib
import json
import os
import tempfile
import urllib.request
import zipfile

import datasets

URL = "https://example.org/releases/v3/data.zip"
SHA256 = "0" * 64


def fetch(url, target):
    urllib.request.urlretrieve(url, target)
    digest = hashlib.sha256(open(target, "rb").read()).hexdigest()
    if digest != SHA256:
        raise ValueError("checksum mismatch")
    return target


class ZipJson(datasets.GeneratorBasedBuilder):
    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({"q": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        tmp = tempfile.mkdtemp()
        path = fetch(URL, os.path.join(tmp, "data.zip"))
        with zipfile.ZipFile(path) as zf:
            zf.extractall(tmp)
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"path": os.path.join(tmp, "train.json")})]

    def _generate_examples(self, path):
        with open(path) as f:
            for i, row in enumerate(json.load(f)):
                yield i, {"q": row["question"]}
"""

VISION_REMOTE_CODE = """\
import torch
from torch import nn
from torch.hub import load_state_dict_from_url
from transformers import PreTrainedModel, PretrainedConfig

WEIGHTS = "https://download.pytorch.org/models/resnet18-f37072fd.pth"


class BackboneConfig(PretrainedConfig):
    model_type = "tiny-backbone"

    def __init__(self, channels=64, pretrained_backbone=False, **kwargs):
        self.channels = channels
        self.pretrained_backbone = pretrained_backbone
        super().__init__(**kwargs)


class Backbone(PreTrainedModel):
    config_class = BackboneConfig

    def __init__(self, config):
        super().__init__(config)
        self.stem = nn.Sequential(nn.Conv2d(3, config.channels, 7, 2, 3), nn.BatchNorm2d(config.channels), nn.ReLU())
        if config.pretrained_backbone:
            state = load_state_dict_from_url(WEIGHTS, progress=False)
            self.stem.load_state_dict({k: v for k, v in state.items() if k.startswith("conv1")}, strict=False)

    def forward(self, pixel_values):
        return self.stem(pixel_values).flatten(1)
"""

LOGGING_ENV_CONFIG = """\
import logging
import os
import sys
import platform

import datasets

logger = logging.getLogger(__name__)
NUM_PROC = int(os.environ.get("NUM_PROC", "1"))
DEBUG = os.getenv("DATASET_DEBUG") == "1"
IS_WINDOWS = sys.platform.startswith("win") or platform.system() == "Windows"


class Cfg(datasets.BuilderConfig):
    def __init__(self, lowercase=False, **kwargs):
        super().__init__(**kwargs)
        self.lowercase = lowercase


class Logs(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIGS = [Cfg(name="default"), Cfg(name="lower", lowercase=True)]

    def _info(self):
        if DEBUG:
            logger.info("python %s on %s", sys.version, platform.platform())
        return datasets.DatasetInfo(features=datasets.Features({"line": datasets.Value("string")}))

    def _split_generators(self, dl_manager):
        path = dl_manager.download_and_extract("https://example.org/logs.txt.gz")
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"path": path})]

    def _generate_examples(self, path):
        with open(path, encoding="utf-8", newline="\\\\r\\\\n" if IS_WINDOWS else None) as f:
            for i, line in enumerate(f):
                yield i, {"line": line.lower() if self.config.lowercase else line}
"""

BENIGN = {
    "generator_builder": GENERATOR_BUILDER,
    "arrow_builder": ARROW_BUILDER,
    "requests_pandas": REQUESTS_PANDAS,
    "config_subclasses": CONFIG_SUBCLASSES,
    "subprocess_import_only": SUBPROCESS_IMPORT_ONLY,
    "modeling_tinylm": MODELING,
    "configuration_tinylm": CONFIGURATION,
    "tokenization_tiny": TOKENIZER_WITH_ENV,
    "tar_xml": TAR_XML,
    "urllib_zip": URLLIB_ZIP,
    "vision_remote_code": VISION_REMOTE_CODE,
    "logging_env_config": LOGGING_ENV_CONFIG,
}
