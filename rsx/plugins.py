"""`python -m rsx.plugins`: every discovered plugin and where it comes from.

Lists name, kind, the distribution and version that declare it, its entry point target and
one line of description, or, for a plugin that failed to load, why. Imports no framework.
"""

from __future__ import annotations

import argparse
import json
import sys

from rsx.discovery import Registry, discover


def rows(registry: Registry) -> list[dict[str, str]]:
    found = []
    for kind in ("backend", "model", "data"):
        for name in registry.names(kind, include_broken=True):
            record = registry.records[kind][name]
            found.append(
                {
                    "kind": kind,
                    "name": name,
                    "distribution": record.distribution,
                    "version": record.version,
                    "target": record.target,
                    "status": "ok" if record.error is None else "broken",
                    "about": record.spec.description if record.spec else record.error,
                }
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rsx.plugins", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    table = rows(discover())
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    header = ("kind", "name", "distribution", "version", "status", "about")
    widths = [max(len(h), *(len(str(r[h])) for r in table)) if table else len(h) for h in header[:-1]]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  about")
    for r in table:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(header, widths)) + "  " + r["about"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
