"""Report renderers: text for people, JSON (DESIGN.md) and SARIF 2.1.0 for machines."""
