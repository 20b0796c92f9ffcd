"""Config keys that a running sidecar cannot change, and what a reload does with them.

Some settings are consumed once, at start, by something that cannot be swapped while it
runs: the listening sockets (`listen`, `admin`, and the header timeout, connection cap and
body size limit the app-facing server is created with), the routes of the app-facing
server (`passthrough` endpoints), the policy engine and its source (`policy`; the policy
itself reloads on its own), and the audit sink with its files, queue and hash chain
(`audit`). A reload keeps their running values, applies everything else, and reports the
keys it kept, so that the operator knows the file and the process differ until the next
start.

A new key read only at start belongs in `RESTART_KEYS`.
"""

from __future__ import annotations

from typing import Any

from sidecar.config import Config
from sidecar.config_loader import ConfigError, validate_config

RESTART_KEYS: tuple[str, ...] = (
    "listen",
    "admin",
    "audit",
    "policy",
    "passthrough",
    "responses",
    "limits.max_body_bytes",
    "limits.header_timeout_s",
    "limits.max_connections",
)
"""Dotted config keys (a section or one setting) that take effect only at start."""


def carry_over(running: Config, loaded: Config, source: str) -> tuple[Config, dict[str, list[str]]]:
    """The config a reload applies: `loaded` with every restart key at its running value,
    validated again as a whole (a model that a running pass-through endpoint serves must
    still exist, say). Also returns the keys that differ, by `RESTART_KEYS` entry, as
    dotted paths down to the changed settings. Raises ConfigError."""
    before, after = running.model_dump(), loaded.model_dump()
    kept: dict[str, list[str]] = {}
    for key in RESTART_KEYS:
        *parents, leaf = key.split(".")
        old, new = before, after
        for part in parents:
            old, new = old.get(part, {}), new.get(part, {})
        if leaf not in old or leaf not in new:
            continue
        changed = _changed_paths(old[leaf], new[leaf], key)
        if changed:
            kept[key] = changed
            new[leaf] = old[leaf]
    if not kept:
        return loaded, kept
    try:
        return validate_config(after, source), kept
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}\n  (with the running values of {', '.join(kept)}, which need a restart)"
        ) from None


def _changed_paths(old: Any, new: Any, prefix: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            path
            for key in sorted(old.keys() | new.keys(), key=str)
            for path in _changed_paths(old.get(key), new.get(key), f"{prefix}.{key}")
        ]
    return [] if old == new else [prefix]
