"""Rally-side helper of enos bench: several Rally operations for one Rally start-up.

Run with the Python of Rally's virtualenv, isolated (``python -I``: it imports rally, never
enos). Prints one JSON object on its last line of standard output.

    python -I rally_helper.py --config-file C setup --env NAME [--from-sysenv] [--check]
        Create the database if it does not exist; create the environment NAME if it does not
        exist (from the OS_* variables with --from-sysenv, else without any platform); with
        --check, check the health of its platforms (exit 3 when one is not available).
        Same effect as `rally db ensure`, `rally env create --name NAME [--from-sysenv]
        --no-use` and `rally env check NAME`.

    python -I rally_helper.py --config-file C [--plugin-path P]... reports UUID JSON HTML
        Write the JSON and static HTML reports of a task: same output as `rally task report
        UUID --json --out JSON` and `rally task report UUID --html-static --out HTML`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def _api(args: argparse.Namespace) -> Any:
    from rally import api as rally_api
    from rally import plugins

    api = rally_api.API(config_file=args.config_file, plugin_paths=args.plugin_path or None,
                        skip_db_check=True)
    plugins.load()
    return api


def setup(args: argparse.Namespace) -> int:
    _api(args)
    from rally import exceptions
    from rally.common import db
    from rally.env import env_mgr

    out: dict[str, Any] = {"db": "ok", "env": "ok"}
    if not db.schema.schema_revision():
        db.schema.schema_create()
        out["db"] = "created"
    try:
        env = env_mgr.EnvManager.get(args.env)
    except exceptions.DBRecordNotFound:
        spec: dict[str, Any] = {}
        if args.from_sysenv:
            found = env_mgr.EnvManager.create_spec_from_sys_environ()
            spec = found["spec"]
            out["discovery"] = {k: v.get("message") for k, v in
                                found.get("discovery_details", {}).items()}
            if not spec:
                out["error"] = "no platform credentials found in the OS_* variables"
                print(json.dumps(out))
                return 2
        env = env_mgr.EnvManager.create(args.env, spec)
        out["env"] = "created"
    out["uuid"] = env.uuid
    if args.check:
        health = env.check_health()
        out["health"] = {name: {"available": bool(h.get("available")),
                                "message": str(h.get("message", ""))}
                         for name, h in health.items()}
        if not all(h["available"] for h in out["health"].values()):
            print(json.dumps(out))
            return 3
    print(json.dumps(out))
    return 0


def reports(args: argparse.Namespace) -> int:
    api = _api(args)
    status = 0
    written = []
    for output_type, dest in (("json", args.json_out), ("html-static", args.html_out)):
        try:
            report = api.task.export(tasks=[args.uuid], output_type=output_type,
                                     output_dest=dest)
        except Exception as exc:  # noqa: BLE001 - reported, and the other report still made
            print(f"cannot build the {output_type} report of {args.uuid}: {exc}",
                  file=sys.stderr)
            status = 1
            continue
        for path, content in (report.get("files") or {}).items():
            tmp = f"{path}.tmp"
            with open(tmp, "w") as handle:
                handle.write(content)
            os.replace(tmp, path)
            written.append(path)
    print(json.dumps({"written": written}))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--plugin-path", action="append", default=[])
    sub = parser.add_subparsers(dest="command", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument("--env", required=True)
    p_setup.add_argument("--from-sysenv", action="store_true")
    p_setup.add_argument("--check", action="store_true")
    p_reports = sub.add_parser("reports")
    p_reports.add_argument("uuid")
    p_reports.add_argument("json_out")
    p_reports.add_argument("html_out")
    args = parser.parse_args(argv)
    return setup(args) if args.command == "setup" else reports(args)


if __name__ == "__main__":
    sys.exit(main())
