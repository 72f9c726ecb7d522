"""Pure analyzers: bytes in, findings out. No network, no LSP."""
