"""The real Orthanc fixtures of tests/unit/net for the PACS dialog tests (the same server code,
loaded from that folder so both test trees share one definition)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

NET_TESTS = Path(__file__).resolve().parents[2] / "unit" / "net"
sys.path.insert(0, str(NET_TESTS))
sys.path.insert(0, str(Path(__file__).parent))

_spec = importlib.util.spec_from_file_location("net_test_fixtures", NET_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_net = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_net)

# every fixture of the network tests (orthanc, case04, fresh_orthanc, make_orthanc, no_keyring, ...)
for _name, _obj in vars(_net).items():
    if hasattr(_obj, "_pytestfixturefunction") or type(_obj).__name__ == "FixtureFunctionDefinition":
        globals()[_name] = _obj
case04_files = _net.case04_files
USERS = _net.USERS
