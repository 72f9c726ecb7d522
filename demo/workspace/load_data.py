"""MalHug demo: datasets from the (fake) Hub."""

from datasets import load_dataset

# Data files only: nothing to report.
reviews = load_dataset("demo-org/imdb-reviews")

# Its loading script downloads a shell script and runs it.
squad = load_dataset("demo-org/squad-extended", trust_remote_code=True)
print(squad["train"][0])
