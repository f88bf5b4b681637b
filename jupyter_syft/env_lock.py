"""Reading an environment's lock: the pinned versions it resolved (standard library only).

A lock (``wire.Environment.lock``, written by the Datasite's builder with uv) pins one
distribution per line, ``name==version``, optionally followed by markers, a line continuation
and ``--hash`` lines; comments start with ``#``. The review compares the pins of two
environments, and a mock run compares them with the versions installed in the scientist's
kernel.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;\\#]+)")
MAX_PINS = 5000  # a lock is bounded text; more pins than this are not read


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(lock: str) -> dict[str, str]:
    """``{normalized name: version}`` of the lock's pins (lines that pin nothing, such as
    hashes, options and comments, are skipped)."""
    pins: dict[str, str] = {}
    for line in lock.splitlines():
        if len(pins) >= MAX_PINS:
            break
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")):
            continue
        match = _PIN.match(stripped)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def pin_lines(pins: dict[str, str]) -> list[str]:
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def added(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Pins of ``current`` whose package ``previous`` did not have, or had at another version
    (``name==new (was old)``), sorted by name."""
    out = []
    for name, version in sorted(current.items()):
        if name not in previous:
            out.append(f"{name}=={version}")
        elif previous[name] != version:
            out.append(f"{name}=={version} (was {previous[name]})")
    return out


def installed_versions(names: Iterable[str]) -> dict[str, str | None]:
    """The version of each distribution installed here (None: not installed)."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
        except Exception:  # a broken distribution's metadata
            found[name] = None
    return found


def mismatches(
    pins: dict[str, str], local: dict[str, str | None] | None = None
) -> list[tuple[str, str | None, str]]:
    """``(package, local version or None, locked version)`` for each pin this kernel does
    not have at that version."""
    local = installed_versions(pins) if local is None else local
    return [
        (name, local.get(name), version)
        for name, version in sorted(pins.items())
        if local.get(name) != version
    ]


def distributions_lock() -> tuple[str, str]:
    """The default environment's lock: ``name==version`` of every distribution this Python
    sees, sorted, one per line; and its sha256."""
    from importlib import metadata

    pins: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name, version = _name_and_version(dist)
        except Exception:  # noqa: S112 -- a broken distribution's metadata: not a pin
            continue
        if name:
            pins.setdefault(normalize(name), version)
    text = "".join(f"{line}\n" for line in pin_lines(pins))
    return text, hashlib.sha256(text.encode()).hexdigest()


def _name_and_version(dist: Any) -> tuple[str | None, str]:
    """``dist.metadata["Name"]`` and ``dist.version``, read from the header lines only:
    parsing the whole file as an email (what ``dist.metadata`` does) costs ~1 ms each, and a
    Datasite reads ~200 of them at start. A header it does not read the same way (folded on
    two lines, missing) is left to ``dist.metadata``."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    found: dict[str, str] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            break  # the end of the headers
        key, colon, value = line.partition(":")
        key = key.lower()
        if not colon or key not in ("name", "version") or key in found:
            continue
        if i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
            return dist.metadata["Name"], dist.version  # folded: as the email parser does
        found[key] = value.lstrip(" \t")
    if "name" not in found or "version" not in found:
        return dist.metadata["Name"], dist.version
    return found["name"], found["version"]
