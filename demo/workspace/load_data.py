"""MalHug demo: a dataset whose loading script runs a downloaded shell script."""

from datasets import load_dataset

squad = load_dataset("demo-org/squad-extended", trust_remote_code=True)
print(squad["train"][0])
