"""PACS passwords and tokens through the system keyring, never in the nodes file.

Where no keyring backend works, a secret set during this run is kept in memory only for the
run's own operations (:func:`secret_for_run`), while :func:`get_secret` returns None so the
UI knows it has to ask the user (once per run).
"""

from __future__ import annotations

import contextlib
import logging

import keyring
from keyring.errors import KeyringError, NoKeyringError

SERVICE = "isthmus-pacs"
_log = logging.getLogger(__name__)
_run_memory: dict[str, str] = {}


def _keyring_works() -> bool:
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration must not stop a PACS query
        return False
    priority = getattr(backend, "priority", 0)
    return not (isinstance(priority, (int, float)) and priority <= 0) and "fail" not in type(backend).__module__


def set_secret(node_name: str, secret: str) -> bool:
    """Store the secret; True when it went to the keyring, False when kept in memory for this run."""
    _run_memory[node_name] = secret
    if not _keyring_works():
        return False
    try:
        keyring.set_password(SERVICE, node_name, secret)
    except (KeyringError, NoKeyringError, RuntimeError) as exc:
        _log.warning("keyring unavailable (%s): the secret for %s is kept for this run only", exc, node_name)
        return False
    return True


def get_secret(node_name: str) -> str | None:
    """The secret from the keyring, or None (no keyring, or nothing stored)."""
    if not _keyring_works():
        return None
    try:
        return keyring.get_password(SERVICE, node_name)
    except (KeyringError, NoKeyringError, RuntimeError):
        return None


def secret_for_run(node_name: str) -> str | None:
    """The keyring secret, else one given earlier in this run (asked once per run)."""
    return get_secret(node_name) or _run_memory.get(node_name)


def delete_secret(node_name: str) -> None:
    _run_memory.pop(node_name, None)
    if _keyring_works():
        with contextlib.suppress(KeyringError, NoKeyringError, RuntimeError):
            keyring.delete_password(SERVICE, node_name)
