"""MalHug demo: local model files (models/ is written when the demo starts)."""

import torch
from safetensors.torch import load_file

# A pickle checkpoint from somewhere: loading it runs whatever its pickle says.
state = torch.load("models/checkpoint.pt")

# safetensors holds tensors only: nothing to run.
encoder = load_file("models/encoder.safetensors")
