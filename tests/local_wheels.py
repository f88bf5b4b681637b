"""Tiny pure-Python wheels (and an sdist) written with zipfile, for building environments
without the network: a Datasite with ``use_local_wheels(client, folder)`` builds from that
folder only (``--find-links``, ``--no-index``)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(
    folder: Path, name: str, version: str, requires: list[str] | None = None, body: str = ""
) -> Path:
    """``<name>-<version>-py3-none-any.whl`` in ``folder``: a module ``name`` whose
    ``VERSION`` is ``version`` (plus ``body``), depending on ``requires``."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires or ())
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n{body}".encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: jupyter_syft-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name_in_zip, data in files.items():
            wheel.writestr(name_in_zip, data)
    return path


def write_sdist(folder: Path, name: str, version: str) -> Path:
    """An sdist only (no wheel): a wheels-only build must refuse it, never run its setup."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}.tar.gz"
    base = f"{name}-{version}"
    files = {
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{base}/setup.py": "raise SystemExit('this build code must never run')\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def wheel_folder(folder: Path) -> Path:
    """A folder with the test packages: tinya 1.0, tinyb 1.0 and 2.0 (2.0 needs tinyc),
    tinyc 1.0, and sdistonly (an sdist, no wheel)."""
    write_wheel(folder, "tinya", "1.0")
    write_wheel(folder, "tinyb", "1.0")
    write_wheel(folder, "tinyb", "2.0", requires=["tinyc>=1"])
    write_wheel(folder, "tinyc", "1.0")
    write_sdist(folder, "sdistonly", "1.0")
    return folder


def use_local_wheels(client, folder: Path) -> None:
    """Make the Datasite build environments from ``folder`` only."""
    client.settings.update(environment_find_links=str(folder), environment_no_index=True)
