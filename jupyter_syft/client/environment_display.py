"""A code's environment as reviewers and scientists see it, and the mock run's version check.

The review (``request``/``code`` cards, ``sy.review``'s widget) shows the environment's name,
its locked packages and lock hash, and flags the packages its scientist's previous version of
the function did not have (``wire.Code.environment_added``). A mock run in this kernel of a
function that names an environment warns when this kernel's versions of the packages the
environment pins differ: the result on the Datasite may then differ from the one here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display
from ..env_lock import mismatches, parse_pins

if TYPE_CHECKING:
    from ..wire import models

SHOWN = 60  # packages listed inline; the rest are counted
_FLAG = 'class="jsyft-flag" style="color:var(--jp-syft-warn-text,#8a4500);font-weight:bold"'
MAX_WARNED = 20  # mismatches named in the mock run's warning


def _name(code: models.Code) -> str:
    return code.environment or "default"


def environment_lines(code: models.Code) -> list[str]:
    """The environment in plain text (``__repr__``)."""
    lines = [f"  environment: {_name(code)}" + ("" if code.environment else " (Datasite's Python)")]
    if code.environment_lock_hash:
        lines.append(f"  lock hash: {code.environment_lock_hash}")
    if code.environment_packages:
        shown = ", ".join(code.environment_packages[:SHOWN])
        more = len(code.environment_packages) - SHOWN
        lines.append(f"  packages: {shown}" + (f" (+{more} more)" if more > 0 else ""))
    if code.environment_added:
        lines.append(
            f"  NEW since the previous request ({code.environment_previous}): "
            + ", ".join(code.environment_added[:SHOWN])
        )
    return lines


def environment_html(code: models.Code) -> str:
    """The environment section of a code's or request's review, HTML-escaped."""
    esc = display.esc
    if not code.environment:
        head = (
            "<p><b>Environment</b>: default (the Datasite's own Python and packages)"
            + (
                f" &middot; lock hash <code>{esc(code.environment_lock_hash[:16])}</code>"
                if code.environment_lock_hash
                else ""
            )
            + "</p>"
        )
    else:
        head = (
            f"<p><b>Environment</b>: <code>{esc(code.environment)}</code>"
            + (
                f' &middot; lock hash <code title="{esc(code.environment_lock_hash)}">'
                f"{esc(code.environment_lock_hash[:16])}</code>"
                if code.environment_lock_hash
                else " &middot; not built (no lock yet)"
            )
            + "</p>"
        )
    added_names = {a.split("==", 1)[0] for a in code.environment_added}
    items = []
    for pin in code.environment_packages[:SHOWN]:
        if pin.split("==", 1)[0] in added_names:
            items.append(f"<li><b>{esc(pin)}</b> <span {_FLAG}>new</span></li>")
        else:
            items.append(f"<li>{esc(pin)}</li>")
    more = len(code.environment_packages) - SHOWN
    if more > 0:
        items.append(f"<li>... and {more} more</li>")
    packages = f'<ul class="jsyft-packages">{"".join(items)}</ul>' if items else ""
    flags = ""
    if code.environment_added:
        flags = (
            f"<p {_FLAG}>New since the previous request of this function "
            f"(environment <code>{esc(code.environment_previous)}</code>): "
            + ", ".join(f"<code>{esc(a)}</code>" for a in code.environment_added[:SHOWN])
            + "</p>"
        )
    return f'<div class="jsyft-environment"><h4>Environment</h4>{head}{flags}{packages}</div>'


def mismatch_message(
    environment: str, lock: str, local: dict[str, str | None] | None = None
) -> str | None:
    """The warning for a mock run here of code for ``environment`` (its lock ``lock``): which
    of its pinned packages this kernel has at another version, or not at all; None if none."""
    found = mismatches(parse_pins(lock), local)
    if not found:
        return None
    parts = [
        f"{name} {have or 'not installed'} here, {want} in the environment"
        for name, have, want in found[:MAX_WARNED]
    ]
    more = len(found) - MAX_WARNED
    return (
        f"This mock run used this kernel's packages, which differ from environment "
        f"'{environment}' on the Datasite: "
        + "; ".join(parts)
        + (f"; and {more} more" if more > 0 else "")
        + ". The result there may differ; install the locked versions here to match "
        "(e.g. pip install " + " ".join(f"{n}=={w}" for n, _, w in found[:MAX_WARNED]) + ")."
    )


def warn_mock_versions(environment: str, sessions: list[Any]) -> None:
    """Warn (``SyftWarning``) when this kernel's versions differ from ``environment``'s lock,
    read from the first of ``sessions`` (the Datasites of the mock run's assets) that has it.
    Silent when no Datasite answers: the mock run itself never fails for it."""
    from ..errors import SyftWarning, show

    for session in sessions:
        try:
            env = session.api.environment(environment)
        except Exception:  # noqa: S112 -- not there, not allowed, offline: try the next one
            continue
        message = mismatch_message(environment, env.lock or "")
        if message:
            show(SyftWarning(message))
        return
