"""`isthmus pathway FILE [--json] [--set NAME=VALUE ...]`: staging and management suggestions
(decision support) from a findings file, with the reasons and the sources."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="findings file (JSON, with the clinical context)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (documented in docs/pathway.md)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="override a pathway setting, e.g. --set conservative_care_min_months=3 (repeatable)")
    parser.add_argument("--rules", metavar="PATH", default=None,
                        help="ruleset folder or pathway.toml (default: the bundled resources/pathway)")
    parser.add_argument("--trace", action="store_true", help="also print every rule and predicate (text output)")
    parser.add_argument("--list-settings", action="store_true", help="list the settings with defaults and exit")


def run(args: argparse.Namespace) -> int:
    import json

    from app.findings.io import FindingsFileError, load_findings
    from app.pathway import RulesetError, SettingError, evaluate, load_ruleset, render_text
    from app.pathway.settings import parse_assignments

    try:
        ruleset = load_ruleset(args.rules)
    except RulesetError as exc:
        print(f"isthmus pathway: {exc}", file=sys.stderr)
        return 2
    if args.list_settings:
        for s in ruleset.settings.values():
            extra = f" choices: {', '.join(s.choices)}" if s.choices else ""
            print(f"{s.name} = {s.default} {s.unit}".rstrip() + f"  — {s.description}{extra}")
        return 0
    try:
        overrides = parse_assignments(args.settings)
        findings = load_findings(args.file)
        result = evaluate(findings, ruleset, overrides)
    except FindingsFileError as exc:
        print(f"isthmus pathway: {exc}", file=sys.stderr)
        return 2
    except SettingError as exc:
        print(f"isthmus pathway: {exc} (see --list-settings)", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(result, show_trace=args.trace))
    return 0
