"""MalHug demo: models from the (fake) Hub, as a project would load them."""

from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

# Clean: safetensors weights and a config. Nothing to report.
tokenizer = AutoTokenizer.from_pretrained("demo-org/clean-bert")
encoder = AutoModel.from_pretrained("demo-org/clean-bert")

# Poisoned at the head of main, clean one commit earlier: the quick fix pins that revision.
classifier = AutoModel.from_pretrained("demo-org/sentiment-bert")

# Every revision of this one opens a reverse shell when its pickle is loaded.
generator = AutoModelForCausalLM.from_pretrained("demo-org/gpt2-reverse-shell")

# Custom modeling code that reads credentials from the environment.
custom = AutoModel.from_pretrained("demo-org/remote-code-model", trust_remote_code=True)
