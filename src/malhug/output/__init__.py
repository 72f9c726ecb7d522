"""Report renderers: text for people, JSON and SARIF 2.1.0 for machines (``docs/REPORT.md``)."""
