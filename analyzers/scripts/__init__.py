"""Loading-script and remote-code analysis: libcst taint tracking, shell heuristics, de-obfuscation.

Entry points: ``analyzer.analyze`` (format ``python`` in the dispatcher), ``analyzer.analyze_text``
(the editor), ``embedded.assess_python``/``assess_shell`` (code strings found in model files),
``repo.select_code_files`` (which files of a repository loading runs), ``suppress.is_suppressed``.
"""
