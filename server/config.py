"""Reading the ``malhug`` settings: initializationOptions, workspace/configuration, didChangeConfiguration.

Bad values keep their defaults and are reported once with ``window/showMessage``. A change of
endpoint, token, offline mode or download limits builds a new hub client and drops the in-memory
results (they may come from another hub); any change republishes every document.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from malhug.server.settings import Settings, default_settings, describe, merge
from malhug.server.state import MalhugServer

log = logging.getLogger("malhug.server.config")
_CONFIG_TIMEOUT = 5.0


def _supports_configuration(server: MalhugServer) -> bool:
    caps = server.client_capabilities
    return bool(caps and caps.workspace and caps.workspace.configuration)


async def pull_section(server: MalhugServer) -> Any:
    if not _supports_configuration(server):
        return None
    params = types.ConfigurationParams(items=[types.ConfigurationItem(section="malhug")])
    try:
        result = await asyncio.wait_for(server.workspace_configuration_async(params), _CONFIG_TIMEOUT)
    except (JsonRpcException, TimeoutError) as exc:
        log.warning("workspace/configuration failed: %s", exc)
        return None
    log.debug("workspace/configuration answered %r", result)
    return result[0] if isinstance(result, list | tuple) and result else None


def compute(init_options: Any, section: Any) -> tuple[Settings, list[str]]:
    settings, problems = merge(default_settings(), init_options)
    settings, more = merge(settings, section)
    return settings, problems + more


def apply(server: MalhugServer, settings: Settings, problems: list[str]) -> bool:
    """Install ``settings``; returns True when the hub client must be rebuilt."""
    old = server.settings
    server.settings = settings
    server.apply_log_level()
    for problem in problems:
        log.warning(problem)
        server.show(problem)
    log.info("settings: %s", describe(settings))
    rebuilt = old.hub_key() != settings.hub_key()
    if rebuilt:
        server.drop_client()
        server.hub.clear()
    return rebuilt


async def load(server: MalhugServer, pushed: Any = None) -> bool:
    """(Re)read every source of settings and install them."""
    if isinstance(pushed, dict) and "malhug" in pushed:
        section = pushed["malhug"]
    else:
        section = await pull_section(server)
    settings, problems = compute(server.init_options, section)
    return apply(server, settings, problems)
