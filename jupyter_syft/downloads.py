"""``sy.autocache(url)``: PySyft's download cache for tutorial data. The first call downloads
the file (with a progress bar) into a cache folder; later calls return it without the network.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from .errors import SyftException

MAX_URL = 2000  # characters
TIMEOUT_S = 60


def cache_folder() -> Path:
    """``$JUPYTER_SYFT_CACHE`` or ``~/.cache/jupyter_syft/autocache``."""
    configured = os.environ.get("JUPYTER_SYFT_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jupyter_syft" / "autocache"


def autocache(url: str, extension: str | None = None, cache: bool = True) -> Path:
    """The local path of ``url``'s content, downloaded once and kept (``cache=False``:
    download again). ``extension`` names the file's type when the URL does not say it."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise SyftException(f"autocache takes a URL (a string of at most {MAX_URL} characters).")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SyftException(f"autocache downloads http(s) URLs; {url[:100]!r} is not one.")
    suffix = extension or Path(parsed.path).suffix.lstrip(".")
    name = hashlib.sha256(url.encode()).hexdigest()[:32] + (f".{suffix}" if suffix else "")
    path = cache_folder() / name
    if cache and path.is_file():
        return path
    _download(url, path)
    return path


def _download(url: str, path: Path) -> None:
    import requests
    from tqdm.auto import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed: a cut download is never cached.
    part = Path(tempfile.mkstemp(dir=path.parent, prefix=".part-")[1])
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as answer:
            if answer.status_code != 200:
                raise SyftException(
                    f"Could not download {url}: the server answered {answer.status_code}. "
                    "Check the URL."
                )
            total = int(answer.headers.get("Content-Length") or 0) or None
            with (
                part.open("wb") as out,
                tqdm(total=total, unit="B", unit_scale=True, desc=path.name[:20]) as bar,
            ):
                for chunk in answer.iter_content(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
        os.replace(part, path)
    except requests.RequestException as exc:
        raise SyftException(
            f"Could not download {url} ({type(exc).__name__}): this machine may be offline. "
            f"Download it by hand and read the local file, or put it at {path}."
        ) from None
    finally:
        part.unlink(missing_ok=True)
