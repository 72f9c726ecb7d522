"""The hub layer: the one part of MalHug that talks to the network (through huggingface_hub)."""
