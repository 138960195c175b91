"""Network errors in plain words. Each message names the node and the problem."""

from __future__ import annotations


class NetError(Exception):
    """A PACS operation failed; ``str()`` is a sentence a user can act on."""

    def __init__(self, message: str, node_name: str = "") -> None:
        super().__init__(message)
        self.node_name = node_name


class AssociationRejected(NetError):
    """The PACS refused the DICOM association (wrong AE title, unknown caller, busy)."""

    def __init__(self, node_name: str, reason: str) -> None:
        super().__init__(f"association rejected by {node_name}: {reason}", node_name)
        self.reason = reason


class ConnectionRefused(NetError):
    """Nothing listens on the host and port (server down, wrong port)."""

    def __init__(self, node_name: str, where: str) -> None:
        super().__init__(f"connection refused by {node_name} at {where} (is the server running and the port right?)",
                         node_name)


class NetTimeout(NetError):
    """The PACS did not answer in time."""

    def __init__(self, node_name: str, what: str, timeout_s: float) -> None:
        super().__init__(f"{node_name} did not answer {what} within {timeout_s:g} s (timeout)", node_name)


class HttpAuthError(NetError):
    """HTTP 401 or 403: the user name, password or token was not accepted."""

    def __init__(self, node_name: str, status: int, detail: str = "") -> None:
        what = ("authentication failed (HTTP 401): " + (detail or "check the user name and the password or token")
                if status == 401 else "access denied (HTTP 403): " + (detail or "this account may not do that"))
        super().__init__(f"{node_name}: {what}", node_name)
        self.status = status


class RemoteError(NetError):
    """The PACS answered but reported a failure (DIMSE status, HTTP error, lost connection)."""


class NodeConfigError(NetError):
    """A node address or the nodes file is malformed, or no node has that name."""
