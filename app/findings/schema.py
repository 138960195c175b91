"""JSON-schema validation of findings documents (schema in resources/schemas/)."""

from __future__ import annotations

import functools
import json

from app.core.paths import resource

SCHEMA_FILE = "findings.schema.json"


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(resource("schemas", SCHEMA_FILE).read_text(encoding="utf-8"))


def validate_document(doc: dict) -> list[str]:
    """Plain-language problems found in ``doc`` (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(document)"
        problems.append(f"{where}: {err.message}")
    return problems
