"""User-code rules (MH701-MH712): Hub references and risky load calls in the user's own Python code.

Pure: reads text, never imports or runs it, never touches the network. ``analyze_user_code`` gives
plain findings (what the CLI reports) and the structured references and loads (what the language
server's quick fixes and the Hub-reference checks of ``malhug.hub.refcheck`` need). Reached from
outside only through ``malhug.analyzers.api``.
"""
