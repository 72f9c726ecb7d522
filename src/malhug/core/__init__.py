"""The core model and the rule catalog. Imports nothing from the rest of MalHug."""
