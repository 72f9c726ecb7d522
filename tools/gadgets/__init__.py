"""Gadget miner: which functions of the standard library and of pinned ML packages reach code or
command execution, name resolution, deserialization, the network or file writes within a few calls
(``make gadgets``; output ``analyzers/knowledge/gadgets.jsonl``, documented in
``analyzers/knowledge/GADGETS.md``)."""
