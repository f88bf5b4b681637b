"""The written contract cannot drift: every endpoint declares what it serves, the committed
OpenAPI file is what those declarations generate, and the sidebar's TypeScript types are what
that file generates."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_syft.server.http import openapi
from jupyter_syft.wire.contract import Op
from jupyter_syft.wire.models import Ok

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specification" / "datasite-api.json"
SCHEMA_TS = ROOT / "src" / "api" / "schema.ts"
NODE_BIN = ROOT / "node_modules" / ".bin"


def test_every_route_declares_every_verb_it_serves():
    assert openapi.contract_problems() == []


def test_an_undeclared_verb_is_a_problem():
    class Half:
        contract = {"post": Op("Make one", Ok), "delete": Op("Drop one", Ok)}

        async def get(self) -> None: ...

        async def post(self) -> None: ...

    assert openapi.contract_problems([("things", Half)]) == [
        "Half serves GET things undeclared",
        "Half declares DELETE but does not serve it",
    ]
    with pytest.raises(openapi.ContractError):
        openapi.document([("things", Half)])


def test_committed_spec_is_what_the_declarations_generate():
    committed = SPEC.read_text(encoding="utf-8") if SPEC.exists() else ""
    assert committed == openapi.render(openapi.document()), (
        f"{SPEC.relative_to(ROOT)} is stale: run `python -m jupyter_syft.server.http.openapi --write`"
        " and then `jlpm build:api`, and commit both files"
    )


def test_every_word_of_the_wire_is_lowercase():
    """One casing: statuses, orders and kinds are lowercase wherever the spec lists them."""
    words = [w for enum in _enums(json.loads(SPEC.read_text(encoding="utf-8"))) for w in enum]
    assert words, "the spec lists no enum at all"
    assert [w for w in words if isinstance(w, str) and w != w.lower()] == []


def test_typescript_types_are_generated_from_the_committed_spec():
    generated = subprocess.run(
        _build_api_command(), cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    formatted = subprocess.run(
        [_node_tool("prettier"), "--stdin-filepath", str(SCHEMA_TS)],
        cwd=ROOT,
        input=generated,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = SCHEMA_TS.read_text(encoding="utf-8") if SCHEMA_TS.exists() else ""
    assert committed == formatted, (
        f"{SCHEMA_TS.relative_to(ROOT)} is stale: run `jlpm build:api` and commit it"
    )


def _build_api_command() -> list[str]:
    """package.json's ``build:api`` generator, writing to stdout: the same flags, by design."""
    script = json.loads((ROOT / "package.json").read_text())["scripts"]["build:api"]
    argv = shlex.split(script.split("&&")[0])
    assert argv[0] == "openapi-typescript" and "-o" in argv, script
    at = argv.index("-o")
    del argv[at : at + 2]
    return [_node_tool(argv[0]), *argv[1:]]


def _node_tool(name: str) -> str:
    path = NODE_BIN / name
    if path.exists():
        return str(path)
    message = f"{path.relative_to(ROOT)} is missing: run `jlpm install`"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI installs node_modules in scripts/setup.sh)")
    pytest.skip(message + "; the TypeScript types were not checked")


def _enums(node: Any) -> list[list[Any]]:
    if isinstance(node, dict):
        found = [node["enum"]] if isinstance(node.get("enum"), list) else []
        if "const" in node:
            found.append([node["const"]])
        return found + [e for value in node.values() for e in _enums(value)]
    if isinstance(node, list):
        return [e for value in node for e in _enums(value)]
    return []
