"""The exit statuses every ``malhug`` command shares (``docs/CLI.md``, "Exit status")."""

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
