"""Binding a call's arguments to a Syft function's input policy: pure, no store.

``bind`` checks what a caller sends against the policy and says where each parameter's value
comes from: a stored blob (an asset's data or mock) or bytes sent inline. Assets are looked
up through the function it is given, so it runs, and is tested, without a database.
``mock_inputs`` gives the arguments of a run on the mocks, which the Datasite binds itself.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Literal

from .... import serde
from ... import models
from ..errors import BadRequest, Forbidden, NotFound
from ..limits import clip

MAX_INLINE_BYTES = 64 << 20

Bound = tuple[Literal["blob"], str] | tuple[Literal["inline"], bytes]
AssetLookup = Callable[[str], "models.Asset | None"]


def bind(code: models.UserCode, inputs: Any, private: bool, asset: AssetLookup) -> dict[str, Bound]:
    """Check call arguments against ``code``'s input policy; map each parameter to where its
    value comes from: ("blob", blob_id) or ("inline", encoded bytes). On private data
    (approved code) only exactly the inputs the policy names are accepted; on mocks, an
    asset's mock stands in for it and the caller's own values are allowed too."""
    if not isinstance(inputs, dict):
        raise BadRequest("inputs must be an object.")
    policy = code.input_policy["inputs"]
    params = set(code.parameters) - {"datasite"}
    unknown = set(inputs) - params
    if unknown:
        raise BadRequest(
            f"{code.service_func_name} has no parameter(s) {clip(', '.join(sorted(unknown)))}; "
            f"it takes {', '.join(sorted(params)) or 'none'}."
        )
    bound: dict[str, Bound] = {}
    for param in sorted(params):
        rule = policy.get(param)
        given = inputs.get(param)
        if rule is not None and rule["kind"] == "constant":
            bound[param] = ("inline", base64.b64decode(rule["data"]))
            continue
        if given is None:
            raise BadRequest(f"Missing argument {param!r} for {code.service_func_name}.")
        if not isinstance(given, dict):
            raise BadRequest(
                f"Argument {param!r} must be an object: an asset reference or a value "
                "(send it with the client, e.g. client.code.<function>(**kwargs))."
            )
        if rule is not None and rule["kind"] == "asset":
            if given.get("kind") == "asset" and given.get("id") == rule["id"]:
                row = asset(rule["id"])
                if row is None:
                    raise NotFound(f"The asset for {param!r} is no longer on this Datasite.")
                bound[param] = ("blob", asset_blob(row, private))
                continue
            if private or given.get("kind") == "asset":
                raise Forbidden(
                    f"Argument {param!r} must be the asset {rule.get('name')!r} the input "
                    "policy names; approved code runs only on its approved inputs."
                )
            # pending code on the scientist's own values (mock execution)
            bound[param] = ("inline", inline_bytes(given, param))
            continue
        if private and rule is None:
            raise Forbidden(f"Argument {param!r} is not covered by the input policy.")
        if given.get("kind") == "asset":
            asset_id = given.get("id")
            row = asset(asset_id) if isinstance(asset_id, str) else None
            if row is None:
                raise NotFound(f"No asset {clip(asset_id)} on this Datasite.")
            if private:
                raise Forbidden(f"Argument {param!r} may not be an asset under this policy.")
            bound[param] = ("blob", asset_blob(row, private=False))
            continue
        data = inline_bytes(given, param)
        if rule is not None and rule["kind"] == "type":
            value = loads(data, param)
            if type(value).__name__ != rule["type"]:
                raise Forbidden(f"Argument {param!r} must be a {rule['type']}.")
        bound[param] = ("inline", data)
    return bound


def mock_inputs(code: models.UserCode) -> dict[str, Any]:
    """The arguments of a run on the mocks: each asset the input policy names, which ``bind``
    then reads as its mock (constants come from the policy itself). A parameter the policy
    leaves to the caller has no mock: the caller must give it a value."""
    policy = code.input_policy["inputs"]
    inputs: dict[str, Any] = {}
    for param in sorted(set(code.parameters) - {"datasite"}):
        rule = policy.get(param)
        if rule is not None and rule["kind"] == "asset":
            inputs[param] = {"kind": "asset", "id": rule["id"]}
        elif rule is None or rule["kind"] != "constant":
            what = f"any {rule['type']} the caller gives" if rule else "not in the input policy"
            raise BadRequest(
                f"{param!r} is {what}, so it has no mock: call "
                f"client.code.{code.service_func_name}({param}=...) with a value instead."
            )
    return inputs


def asset_blob(asset: models.Asset, private: bool) -> str:
    """The blob a run reads for ``asset``: its data on private runs, its mock otherwise."""
    if private:
        return asset.data_blob_id
    if asset.mock_blob_id is None:
        raise Forbidden(f"Asset {asset.name!r} has no mock to run on.")
    return asset.mock_blob_id


def inline_bytes(given: Any, param: str) -> bytes:
    """A value sent with the call ({"kind": "value", "data": base64}), checked whole."""
    if not isinstance(given, dict) or given.get("kind") != "value":
        raise BadRequest(f"Argument {clip(param)} is not valid.")
    data = given.get("data")
    if not isinstance(data, str) or len(data) > MAX_INLINE_BYTES:
        raise BadRequest(f"Argument {clip(param)} is missing or too large to send inline.")
    raw = _b64(data, param)
    _check_value(raw, param)
    return raw


def decode_inline(data: Any, param: str) -> Any:
    """A policy's constant (base64 of an encoded value), decoded."""
    if not isinstance(data, str):
        raise BadRequest(f"Constant {clip(param)} has no value.")
    raw = _b64(data, param)
    _check_value(raw, param)
    return loads(raw, param)


def loads(raw: bytes, param: str) -> Any:
    try:
        return serde.loads(raw)
    except serde.SerdeError as exc:
        raise BadRequest(f"Argument {clip(param)} is not a valid value: {exc}")


def _b64(data: str, param: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Argument {clip(param)} is not valid base64; send it with the client.")


def _check_value(raw: bytes, param: str) -> None:
    checker = serde.StreamChecker()
    try:
        checker.feed(raw)
        checker.finish()
    except serde.SerdeError as exc:
        raise BadRequest(f"Argument {clip(param)} is not a valid value: {exc}")
