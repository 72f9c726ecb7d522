"""The rules of the Python and shell analysis (MH5xx), each id written only here.

``shell.py``, ``sinks.py``, ``calls.py``, ``engine.py`` and ``analyzer.py`` emit them by these names;
what each rule means is in the catalog (``src/malhug/core/rules/scripts.toml``).
"""

REVERSE_SHELL = "MH501"
READS_SECRETS = "MH502"
SENDS_DATA = "MH503"
RUNS_FETCHED_CODE = "MH504"
RUNS_COMMAND = "MH505"
DYNAMIC_CODE = "MH506"
OBFUSCATED_PAYLOAD = "MH507"
BULK_DESTRUCTION = "MH508"
RECON = "MH509"
PERSISTENCE = "MH510"
FIXED_PATH_WRITE = "MH511"
RISKY_IMPORT = "MH512"
COLLECTION_ENDPOINT = "MH513"
SYNTAX_ERROR = "MH514"
SECRET_ENV = "MH515"
