"""`python -m runwatch_dev.sam_env` (`make sam-env`): an `--env-vars` file for `sam local invoke` and
`sam local start-api` that points every function at a running `make local`'s DynamoDB Local.

The SAM CLI only overrides variables a function declares in template.yaml, so the file is built from the
template: each function gets the table name and the DynamoDB endpoint as its container sees them, and
nothing the function does not declare. On Linux the container shares the host's network
(`--docker-network host`) and reaches DynamoDB Local on 127.0.0.1; Docker Desktop (macOS, Windows) reaches
the host as `host.docker.internal`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runwatch_dev.local.__main__ import TABLE_NAME
from runwatch_dev.local.dynamodb_local import REPO_ROOT
from runwatch_dev.local.table_from_template import DEFAULT_TEMPLATE, load_template

FUNCTION_TYPE = "AWS::Serverless::Function"
DEFAULT_OUT = REPO_ROOT / ".aws-sam" / "env-vars.json"
DEFAULT_DYNAMODB_PORT = 8000
HOSTS = {"host": "127.0.0.1", "desktop": "host.docker.internal"}


def declared_variables(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """Each function's logical id -> the environment variables it declares (its own and the Globals')."""
    globals_env = _variables(template.get("Globals", {}).get("Function", {}))
    return {
        logical_id: globals_env | _variables(resource.get("Properties", {}))
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == FUNCTION_TYPE
    }


def _variables(properties: Mapping[str, Any]) -> set[str]:
    return set((properties.get("Environment") or {}).get("Variables") or {})


def env_vars(
    template: Mapping[str, Any], dynamodb_endpoint: str, table_name: str = TABLE_NAME
) -> dict[str, dict[str, str]]:
    """The `--env-vars` document: per function, the values it declares a variable for."""
    values = {
        "TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        # The local stack's demo ids are made up: never ask a real account about them.
        "RECONCILE": "off",
    }
    return {
        logical_id: {name: value for name, value in values.items() if name in declared}
        for logical_id, declared in sorted(declared_variables(template).items())
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runwatch_dev.sam_env", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        default=DEFAULT_DYNAMODB_PORT,
        help=f"DynamoDB Local's port (make local DYNAMODB_PORT=..., default {DEFAULT_DYNAMODB_PORT})",
    )
    parser.add_argument(
        "--network",
        choices=sorted(HOSTS),
        default="host",
        help="host: Linux with --docker-network host (default); desktop: Docker Desktop",
    )
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="template.yaml")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"where to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not 0 < args.dynamodb_port < 65536:
        parser.error(f"--dynamodb-port must be from 1 to 65535, got {args.dynamodb_port}")
    endpoint = f"http://{HOSTS[args.network]}:{args.dynamodb_port}"
    document = env_vars(load_template(args.template), endpoint)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} (DynamoDB Local at {endpoint} as the functions' containers see it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
