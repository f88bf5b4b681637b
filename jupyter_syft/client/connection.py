"""HTTP to one Datasite: JSON calls, and values streamed in chunks with a progress bar.

The transport only: which route to call, with what, is ``api.py``'s business.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import SyftException
from ..version import __version__
from ..wire.contract import VALUE_MEDIA_TYPE
from ..wire.routes import API_PREFIX

if TYPE_CHECKING:
    import requests
    import urllib3

    from ..serde import Encoded

PROGRESS_MIN_BYTES = 8 << 20  # smaller transfers finish before a bar would be useful
CHUNK = 4 << 20
TIMEOUT = (10, 600)  # (connect, read) seconds


def resolve_url(url: str | None = None, port: int | str | None = None) -> str:
    """``"localhost"``, ``"host:8083"``, ``"http://host:8888/base/"`` (+ ``port``) -> base URL."""
    url = (url or "localhost").strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyftException(f"{url!r} is not a Datasite address; use e.g. 'http://localhost:8083'.")
    host = parts.hostname
    if host == "localhost":
        host = "127.0.0.1"  # skips a failed ::1 attempt on every new connection
    if port is not None and str(port).strip():
        if not str(port).strip().isdigit():
            raise SyftException(f"port must be a number, not {port!r}.")
        port_number: int | None = int(port)
    else:
        port_number = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port_number is not None:
        netloc += f":{port_number}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


class Connection:
    page_size = 500  # the most a Datasite gives per page: fewest round trips

    def __init__(self, base_url: str, token: str | None = None):
        import requests
        import urllib3
        from requests.utils import DEFAULT_CA_BUNDLE_PATH

        self.base_url = base_url
        self.api_url = base_url + API_PREFIX
        self.token = token
        # Values (uploads, downloads) go through requests; JSON calls straight through urllib3
        # (see ``call``). Neither reads proxies from the environment: a proxy there must not
        # see Datasite tokens.
        self.session: requests.Session = requests.Session()
        self.session.trust_env = False
        self._pool: urllib3.PoolManager = urllib3.PoolManager(
            maxsize=10, cert_reqs="CERT_REQUIRED", ca_certs=DEFAULT_CA_BUNDLE_PATH
        )
        # The host's pool, by (scheme, host, port), found on first use: PoolManager.request
        # looked it up per call (pool key, lock, LRU), a tenth of a JSON call's client CPU.
        self._origin_pool: tuple[tuple[Any, ...], urllib3.HTTPConnectionPool] | None = None
        self._timeout = urllib3.Timeout(connect=TIMEOUT[0], read=TIMEOUT[1])
        self._headers = {"User-Agent": f"jupyter-syft/{__version__}", "Accept": "application/json"}
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
            self._headers["Authorization"] = f"Bearer {token}"
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    def with_token(self, token: str | None) -> Connection:
        return Connection(self.base_url, token)

    # --- JSON --------------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def get_pages(self, path: str, **params: Any) -> Iterator[Any]:
        """Every item of a paged list route, page after page (see server/services/paging.py);
        ``limit``: rows per page (default ``page_size``), other params filter the list.

        Pages are keyset pages: items added while this walks never make it repeat or skip one.
        """
        params = {k: v for k, v in params.items() if v is not None}
        params["limit"] = params.get("limit") or self.page_size
        while True:
            page = self.get(path, **params)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, json=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """One JSON call, on urllib3 directly: requests' layers (settings merging, hooks,
        adapters) were 40 % of a call's client CPU, and a JSON call needs none of them."""
        headers, body = self._headers, None
        if json is not None:
            body = _json_body(json)
            headers = self._json_headers
        data = self._request(method, path, params, body, headers).data
        if not data:
            return None
        try:
            return _loads(data)
        except ValueError:
            raise SyftException(
                f"{self.base_url} answered with something that is not JSON: it does not look "
                "like a Datasite. Check the address (and the port)."
            ) from None

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """A 2xx answer (with ``stream``, its body not read yet), or the SyftException that
        says what went wrong: the Datasite's own message for its 4xx and 5xx."""
        import urllib3
        from urllib3.util import parse_url

        url = self.api_url + path
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
            url += "?" + query if query else ""
        try:
            # What PoolManager.request does with these arguments, minus its per-call lookups:
            # the same normalised request URI, sent on the same pool.
            parsed = parse_url(url)
            response = self._pool_for(parsed).urlopen(
                method,
                parsed.request_uri,
                body=body,
                headers=headers or self._headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=not stream,
            )
        except urllib3.exceptions.NewConnectionError:  # (a ConnectTimeoutError subclass)
            raise self._unreachable() from None
        except urllib3.exceptions.TimeoutError:
            raise self._timed_out() from None
        except urllib3.exceptions.HTTPError:
            raise self._unreachable() from None
        if not 200 <= response.status < 300:
            data = response.data  # (read now, when streamed)
            response.release_conn()
            raise error_from_answer(response.status, response.reason, data, self.base_url)
        return response

    def _pool_for(self, url: urllib3.util.Url) -> urllib3.HTTPConnectionPool:
        origin = (url.scheme, url.host, url.port)
        cached = self._origin_pool
        if cached is None or cached[0] != origin:
            pool = self._pool.connection_from_host(url.host, port=url.port, scheme=url.scheme)
            cached = self._origin_pool = (origin, pool)
        return cached[1]

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            response = self.session.request(method, self.api_url + path, timeout=TIMEOUT, **kwargs)
        except requests.ConnectionError:
            raise self._unreachable() from None
        except requests.Timeout:
            raise self._timed_out() from None
        if response.status_code >= 400:
            raise error_from_answer(
                response.status_code, response.reason, response.content, self.base_url
            )
        return response

    def _unreachable(self) -> SyftException:
        return SyftException(
            f"Cannot reach the Datasite at {self.base_url}. Is it running, and is the "
            "address right? (Start one with sy.orchestra.launch(...) or `jupyter-syft serve`.)"
        )

    def _timed_out(self) -> SyftException:
        return SyftException(f"The Datasite at {self.base_url} did not answer in time.")

    # --- values ------------------------------------------------------------------------------
    def upload(self, path: str, encoded: Encoded, label: str = "") -> Any:
        """Stream a value: a large DataFrame is converted batch by batch as it is sent."""
        bar = _progress(encoded.nbytes, f"Uploading {label}".strip())
        try:
            response = self._send(
                "POST",
                path,
                data=_Body(encoded, bar),
                headers={"Content-Type": VALUE_MEDIA_TYPE},
            )
        finally:
            if bar is not None:
                bar.close()
        return response.json()

    def download(self, path: str, label: str = "", **params: Any) -> Any:
        """Fetch a value and decode it; the body goes straight into one preallocated buffer."""
        import urllib3

        from .. import serde

        response = self._request("GET", path, params or None, stream=True)
        whole = False  # only a connection whose answer was read to the end goes back to the pool
        try:
            size = int(response.headers.get("Content-Length") or 0)
            if not size:
                data = response.read()
                whole = True
                return serde.decode(data)
            buffer = bytearray(size)
            view = memoryview(buffer)
            bar = _progress(size, f"Downloading {label}".strip())
            received = 0
            while received < size:
                try:
                    n = response.readinto(view[received : received + CHUNK])
                except urllib3.exceptions.TimeoutError:
                    raise self._timed_out() from None
                except urllib3.exceptions.HTTPError:  # the connection broke mid-answer
                    n = 0
                if not n:
                    raise SyftException("The download was cut off; try again.")
                received += n
                if bar is not None:
                    bar.update(n)
            whole = True
            if bar is not None:
                bar.close()
        finally:
            if whole:
                response.release_conn()
            else:
                response.close()
        return serde.decode(buffer)


class _Body:
    """An upload's body: its length is known, so it goes with a Content-Length (the Datasite
    refuses one over its limit before reading it), and its chunks are made as it is sent."""

    def __init__(self, encoded: Encoded, bar: Any):
        self.encoded = encoded
        self.bar = bar

    def __len__(self) -> int:
        return self.encoded.nbytes

    def __iter__(self) -> Iterator[memoryview]:
        for chunk in self.encoded.iter_chunks(CHUNK):
            yield chunk
            if self.bar is not None:
                self.bar.update(len(chunk))


def _progress(total: int, label: str) -> Any:
    if total < PROGRESS_MIN_BYTES:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


_loads = json.loads  # (``call``'s parameter is named json, as requests' is)


def _json_body(value: Any) -> bytes:
    try:
        return json.dumps(value, allow_nan=False).encode()
    except ValueError:
        raise SyftException(
            "A value to send holds NaN or infinity, which JSON cannot carry; send None "
            "or a number instead."
        ) from None
    except TypeError as exc:
        raise SyftException(f"A value to send cannot be sent as JSON: {exc}.") from None


def error_from_answer(status: int, reason: str | None, data: bytes, base_url: str) -> SyftException:
    """The Datasite's own error message (``{"error": code, "detail": text}``), or one that
    says what the status means when the answer is not a Datasite's."""
    detail, code = None, ""
    try:
        body = json.loads(data) if data else None
        if isinstance(body, dict):
            detail, code = body.get("detail") or body.get("error"), body.get("error", "")
    except ValueError:
        pass
    if not detail:
        if status == 404:
            detail = f"{base_url} does not look like a Datasite (no Datasite API there)."
        elif 300 <= status < 400:
            detail = (
                f"{base_url} answered {status} {reason or ''} (a redirect): it does not look "
                "like a Datasite API. Check the address."
            )
        else:
            detail = f"The Datasite answered {status} {reason or ''}.".replace(" .", ".")
    return SyftException(str(detail), status=status, code=str(code or ""))
