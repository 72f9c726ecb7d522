"""Knowledge shared by the analyzers: which Python callables and modules are dangerous, and how.

Data only (tables and lookups over them; ``names``: the canonical form of an imported name); each
analyzer keeps its own semantics on top: the pickle judge its allowlist of benign rebuilders, the
script engine its sink handlers, the Keras checks their bytecode-name vocabulary.
"""
