"""The MalHug language server."""
