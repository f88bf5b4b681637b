"""Datasets: the builders a data owner fills in, and the remote views everyone browses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftError, SyftException, SyftSuccess, show

if TYPE_CHECKING:
    from .client import DatasiteClient

NO_ACCESS = "You do not have permission to access private data."
_NO_MOCK = object()  # set by Asset.no_mock(): published without a mock, on purpose


class Contributor:
    def __init__(
        self,
        name: str,
        email: str,
        role: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ):
        self.name, self.email, self.role, self.phone, self.note = name, email, role, phone, note

    def to_json(self) -> dict[str, Any]:
        fields = {
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "phone": self.phone,
            "note": self.note,
        }
        return {k: str(v) for k, v in fields.items() if v is not None}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Contributor) and other.to_json() == self.to_json()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_json().items())))

    def __repr__(self) -> str:
        role = f", role={self.role!r}" if self.role else ""
        return f"Contributor(name={self.name!r}, email={self.email!r}{role})"


def _contributors(items: Iterable[Any] | None) -> list[Contributor]:
    out: list[Contributor] = []
    for item in items or ():
        if isinstance(item, dict):
            item = Contributor(**item)
        if not isinstance(item, Contributor):
            raise SyftException(
                f"Contributors must be sy.Contributor(...), not {type(item).__name__}."
            )
        if item not in out:
            out.append(item)
    return out


# --- builders (data owner) --------------------------------------------------------------------
class Asset:
    """One value of a dataset: the private ``data`` and a ``mock`` scientists may see."""

    def __init__(
        self,
        name: str,
        data: Any = None,
        mock: Any = None,
        description: str = "",
        contributors: Iterable[Contributor] | None = None,
        data_subjects: Any = None,
        shape: tuple[int, ...] | None = None,
        mock_is_real: bool = False,
    ):
        if not isinstance(name, str) or not name.strip():
            raise SyftException("An asset needs a name: sy.Asset(name='...', data=..., mock=...).")
        self.name = name
        self.data = data
        self.mock = mock
        self.description = description
        self.contributors = _contributors(contributors)
        self.shape = shape
        self.mock_is_real = mock_is_real
        if mock_is_real and mock is None:
            raise SyftException("mock_is_real=True needs a mock.")

    def set_obj(self, data: Any) -> None:
        self.data = data

    def set_mock(self, mock: Any, mock_is_real: bool) -> None:
        if mock_is_real and (mock is None or mock is _NO_MOCK):
            raise SyftException("mock_is_real=True needs a mock; give one or call no_mock().")
        self.mock, self.mock_is_real = mock, mock_is_real

    def no_mock(self) -> None:
        """Publish this asset without a mock: scientists then see only its name and shape."""
        self.mock, self.mock_is_real = _NO_MOCK, False

    def set_shape(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def set_description(self, description: str) -> None:
        self.description = description

    def add_contributor(
        self,
        name: str,
        email: str,
        role: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ) -> None:
        self.contributors = _contributors(
            [*self.contributors, Contributor(name, email, role, phone, note)]
        )

    def check(self) -> None:
        """Raise with a clear message if this asset cannot be uploaded as it is."""
        if self.data is None:
            raise SyftException(
                f"Asset {self.name!r} has no data: give data=... or call set_obj(...)."
            )
        if self.mock is None:
            raise SyftException(
                f"Asset {self.name!r} has no mock. Give one with "
                "asset.set_mock(mock, mock_is_real=False), "
                "or call asset.no_mock() to publish it without one."
            )
        if self.mock is not _NO_MOCK and type(self.mock) is not type(self.data):
            raise SyftException(
                f"Asset {self.name!r}: the mock is a {type(self.mock).__name__} but the data is a "
                f"{type(self.data).__name__}; they must be of the same type."
            )

    @property
    def has_mock(self) -> bool:
        return self.mock is not None and self.mock is not _NO_MOCK

    def __repr__(self) -> str:
        mock = type(self.mock).__name__ if self.has_mock else "none"
        return f"Asset(name={self.name!r}, data={type(self.data).__name__}, mock={mock})"

    def _repr_html_(self) -> str:
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Data", type(self.data).__name__),
                ("Mock", type(self.mock).__name__ if self.has_mock else "none"),
                ("Contributors", ", ".join(c.name for c in self.contributors)),
            ],
            extra_html=(
                f"<h4>Mock data{' (real)' if self.mock_is_real else ''}</h4>"
                + _value_html(self.mock)
                if self.has_mock
                else ""
            ),
            kind="Asset (not uploaded)",
        )


class Dataset:
    """A named collection of assets with its description, built before ``upload_dataset``."""

    def __init__(
        self,
        name: str,
        description: str = "",
        asset_list: Iterable[Asset] | None = None,
        contributors: Iterable[Contributor] | None = None,
        citation: str = "",
        url: str = "",
        summary: str = "",
    ):
        if not isinstance(name, str) or not name.strip():
            raise SyftException("A dataset needs a name: sy.Dataset(name='...').")
        self.name = name
        self.description = description or ""
        self.summary = summary or ""
        self.citation = citation or ""
        self.url = url or ""
        self.contributors = _contributors(contributors)
        self.asset_list: list[Asset] = []
        for asset in asset_list or ():
            self.add_asset(asset)

    def set_description(self, description: str) -> None:
        self.description = description

    def set_summary(self, summary: str) -> None:
        self.summary = summary

    def add_citation(self, citation: str) -> None:
        self.citation = citation

    def add_url(self, url: str) -> None:
        self.url = url

    def add_contributor(
        self,
        name: str,
        email: str,
        role: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ) -> SyftSuccess:
        self.contributors = _contributors(
            [*self.contributors, Contributor(name, email, role, phone, note)]
        )
        return SyftSuccess(f"Contributor '{name}' added to '{self.name}' Dataset.")

    def add_asset(self, asset: Asset, force_replace: bool = False) -> SyftSuccess:
        if not isinstance(asset, Asset):
            raise SyftException(f"add_asset takes a sy.Asset, not {type(asset).__name__}.")
        for i, existing in enumerate(self.asset_list):
            if existing.name == asset.name:
                if not force_replace:
                    raise SyftException(
                        f"Asset {asset.name!r} already exists in {self.name!r}; "
                        "use force_replace=True or replace_asset(asset)."
                    )
                self.asset_list[i] = asset
                return SyftSuccess(f"Asset '{asset.name}' replaced in '{self.name}' Dataset.")
        self.asset_list.append(asset)
        return SyftSuccess(f"Asset '{asset.name}' added to '{self.name}' Dataset.")

    def replace_asset(self, asset: Asset) -> SyftSuccess:
        return self.add_asset(asset, force_replace=True)

    def remove_asset(self, name: str) -> SyftSuccess:
        before = len(self.asset_list)
        self.asset_list = [a for a in self.asset_list if a.name != name]
        if len(self.asset_list) == before:
            raise SyftException(f"No asset named {name!r} in {self.name!r}.")
        return SyftSuccess(f"Asset '{name}' removed from '{self.name}' Dataset.")

    @property
    def assets(self) -> list[Asset]:
        return self.asset_list

    def check(self) -> None:
        if not self.asset_list:
            raise SyftException(
                f"Dataset {self.name!r} has no assets: "
                "add one with dataset.add_asset(sy.Asset(...))."
            )
        for asset in self.asset_list:
            asset.check()

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, assets={[a.name for a in self.asset_list]})"

    def _repr_html_(self) -> str:
        rows = [
            [a.name, type(a.data).__name__, "yes" if a.has_mock else "no"] for a in self.asset_list
        ]
        return display.card(
            self.name,
            [("Summary", self.summary), ("Citation", self.citation), ("URL", self.url)],
            extra_html=display.paragraphs(self.description)
            + display.table(["Asset", "Data", "Mock"], rows),
            kind="Dataset (not uploaded)",
        )


def upload_dataset(client: DatasiteClient, dataset: Dataset, progress: bool = True) -> SyftSuccess:
    from .. import serde

    if not isinstance(dataset, Dataset):
        raise SyftException(f"upload_dataset takes a sy.Dataset, not {type(dataset).__name__}.")
    dataset.check()
    conn = client.connection
    conn.post("datasets/preflight", {"name": dataset.name})  # permission and name, before any bytes
    asset_specs, total = [], 0
    bar = _asset_bar(len(dataset.asset_list), progress)
    for asset in dataset.asset_list:
        if bar is not None:
            bar.set_description(f"Uploading: {asset.name}")
        data = conn.upload("blobs", serde.encode(asset.data), label=f"{asset.name} (data)")
        mock = (
            conn.upload("blobs", serde.encode(asset.mock), label=f"{asset.name} (mock)")
            if asset.has_mock
            else None
        )
        total += data["size"] + (mock["size"] if mock else 0)
        asset_specs.append(
            {
                "name": asset.name,
                "description": asset.description,
                "contributors": [c.to_json() for c in asset.contributors],
                "data": data["blob_id"],
                "mock": mock["blob_id"] if mock else None,
                "mock_is_real": asset.mock_is_real,
                "shape": list(asset.shape) if asset.shape else None,
            }
        )
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    created = conn.post(
        "datasets",
        {
            "name": dataset.name,
            "description": dataset.description,
            "summary": dataset.summary,
            "citation": dataset.citation,
            "url": dataset.url,
            "contributors": [c.to_json() for c in dataset.contributors],
            "assets": asset_specs,
        },
    )
    n = len(asset_specs)
    return SyftSuccess(
        f"Dataset '{dataset.name}' uploaded: {n} asset{'s' * (n != 1)}, {total / 1e6:.1f} MB.",
        value=RemoteDataset(client, created),
    )


def _asset_bar(n: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n, desc="Uploading", unit="asset")


# --- remote views (everyone) ------------------------------------------------------------------
class RemoteAsset:
    """An asset on a Datasite. ``mock`` downloads the mock; ``data`` only for those allowed."""

    def __init__(self, client: DatasiteClient, data: dict[str, Any], dataset_name: str = ""):
        self._client = client
        self._info = data
        self._dataset_name = dataset_name
        self._mock: Any = _NOT_LOADED
        self._data: Any = _NOT_LOADED

    id = property(lambda self: self._info["id"])
    name = property(lambda self: self._info["name"])
    description = property(lambda self: self._info.get("description", ""))
    mock_is_real = property(lambda self: self._info.get("mock_is_real", False))
    has_mock = property(lambda self: self._info.get("has_mock", False))
    can_read_data = property(lambda self: self._info.get("can_read_data", False))
    created_at = property(lambda self: self._info.get("created_at"))

    @property
    def shape(self) -> tuple[int, ...] | None:
        shape = self._info.get("shape")
        return tuple(shape) if shape else None

    @property
    def contributors(self) -> list[Contributor]:
        return [Contributor(**c) for c in self._info.get("contributors", [])]

    @property
    def mock(self) -> Any:
        if self._mock is _NOT_LOADED:
            if not self.has_mock:
                raise SyftException(
                    f"Asset {self.name!r} has no mock: its owner published it without one."
                )
            self._mock = self._client.connection.download(
                f"assets/{self.id}/mock", label=f"{self.name} (mock)"
            )
        return self._mock

    @property
    def data(self) -> Any:
        """The private value, for owners. Others see why not, and get None (as in PySyft)."""
        if not self.can_read_data:
            show(SyftError(NO_ACCESS))
            return None
        if self._data is _NOT_LOADED:
            self._data = self._client.connection.download(f"assets/{self.id}/data", label=self.name)
        return self._data

    def _preview(self, which: str, rows: int = 5) -> Any:
        return self._client.connection.download(f"assets/{self.id}/{which}", rows=rows)

    def __repr__(self) -> str:
        mock = "yes" if self.has_mock else "no"
        return f"Asset(name={self.name!r}, shape={self.shape}, mock={mock})"

    def _repr_html_(self) -> str:
        if self.can_read_data:
            private = _value_html(self._preview("data"))
        else:
            private = f'<p class="muted">{display.esc(NO_ACCESS)}</p>'
        mock = (
            _value_html(self._preview("mock")) if self.has_mock else '<p class="muted">No mock.</p>'
        )
        contributors = ", ".join(f"{c.name} ({c.email})" for c in self.contributors)
        real = " (real)" if self.mock_is_real else ""
        return display.card(
            self.name,
            [
                ("Asset ID", self.id),
                ("Dataset", self._dataset_name),
                ("Shape", self.shape),
                ("Contributors", contributors),
                ("Created on", self.created_at),
                ("Description", self.description),
            ],
            extra_html=f"<h4>Data</h4>{private}<h4>Mock data{real}</h4>{mock}",
            kind="Asset",
        )


_NOT_LOADED = object()


def _value_html(value: Any) -> str:
    return display.value_html(value, max_rows=10)


class AssetList:
    """A dataset's assets, by position or by name; unpacks like a tuple."""

    def __init__(self, assets: list[RemoteAsset]):
        self._assets = assets

    def __getitem__(self, key: int | str) -> RemoteAsset:
        if isinstance(key, str):
            for asset in self._assets:
                if asset.name == key:
                    return asset
            raise KeyError(f"No asset named {key!r}; assets: {', '.join(self.keys())}")
        return self._assets[key]

    def __len__(self) -> int:
        return len(self._assets)

    def __iter__(self) -> Iterator[RemoteAsset]:
        return iter(self._assets)

    def keys(self) -> list[str]:
        return [a.name for a in self._assets]

    def values(self) -> list[RemoteAsset]:
        return list(self._assets)

    def items(self) -> list[tuple[str, RemoteAsset]]:
        return [(a.name, a) for a in self._assets]

    def _rows(self) -> list[list[Any]]:
        return [_asset_row(a) for a in self._assets]

    def __repr__(self) -> str:
        return display.text_table(ASSET_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("Assets", ASSET_HEADERS, self._rows())


ASSET_HEADERS = ["Asset", "Shape", "Mock", "ID"]


def _asset_row(a: RemoteAsset) -> list[Any]:
    return [a.name, a.shape, "yes" if a.has_mock else "no", a.id]


class RemoteDataset:
    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._info = data
        self.assets = AssetList(
            [RemoteAsset(client, a, data["name"]) for a in data.get("assets", [])]
        )

    id = property(lambda self: self._info["id"])
    name = property(lambda self: self._info["name"])
    summary = property(lambda self: self._info.get("summary", ""))
    description = property(lambda self: self._info.get("description", ""))
    citation = property(lambda self: self._info.get("citation", ""))
    url = property(lambda self: self._info.get("url", ""))
    created_at = property(lambda self: self._info.get("created_at"))
    mb_size = property(lambda self: self._info.get("mb_size"))
    uploader = property(lambda self: self._info.get("uploader"))

    @property
    def contributors(self) -> list[Contributor]:
        return [Contributor(**c) for c in self._info.get("contributors", [])]

    @property
    def asset_list(self) -> list[RemoteAsset]:
        return display.TableList(self.assets, "Assets", ASSET_HEADERS, _asset_row)

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, assets={self.assets.keys()})"

    def _repr_html_(self) -> str:
        uploader = self.uploader or {}
        return display.card(
            self.name,
            [
                ("Summary", self.summary),
                ("Uploaded by", f"{uploader.get('name', '')} ({uploader.get('email', '')})"),
                ("Created on", self.created_at),
                ("URL", self.url),
                ("Citation", self.citation),
                ("Contributors", ", ".join(c.name for c in self.contributors)),
            ],
            extra_html="<h4>Description</h4>"
            + display.paragraphs(self.description)
            + "<h4>Assets</h4>"
            + display.table(["Asset", "Shape", "Mock", "ID"], self.assets._rows()),
            kind="Dataset",
        )


class DatasetCollection:
    """``client.datasets``: by position, by name, ``search(name=)``, ``get_all()``."""

    def __init__(self, client: DatasiteClient):
        self._client = client
        self._datasets = [RemoteDataset(client, d) for d in client.connection.get_pages("datasets")]

    def get_all(self) -> list[RemoteDataset]:
        return _dataset_list(self._datasets)

    def __getitem__(self, key: int | str) -> RemoteDataset:
        if isinstance(key, str):
            for dataset in self._datasets:
                if key in (dataset.name, dataset.id):
                    return dataset
            names = ", ".join(repr(d.name) for d in self._datasets) or "none"
            raise SyftException(f"No dataset named {key!r} on this Datasite. Datasets: {names}.")
        try:
            return self._datasets[key]
        except IndexError:
            raise SyftException(
                f"There is no dataset at position {key}: this Datasite has {len(self)}."
            ) from None

    def get_by_id(self, uid: str) -> RemoteDataset:
        return self[uid]

    def search(self, name: str) -> list[RemoteDataset]:
        return _dataset_list(d for d in self._datasets if name.lower() in d.name.lower())

    def delete(self, key: str) -> SyftSuccess:
        dataset = self[key]
        self._client.connection.delete(f"datasets/{dataset.id}")
        return SyftSuccess(f"Dataset '{dataset.name}' deleted.")

    def __len__(self) -> int:
        return len(self._datasets)

    def __iter__(self) -> Iterator[RemoteDataset]:
        return iter(self._datasets)

    def _rows(self) -> list[list[Any]]:
        return [_dataset_row(d) for d in self._datasets]

    def __repr__(self) -> str:
        return display.text_table(DATASET_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("Datasets", DATASET_HEADERS, self._rows())


DATASET_HEADERS = ["Name", "Summary", "Assets", "Created", "ID"]


def _dataset_row(d: RemoteDataset) -> list[Any]:
    return [d.name, d.summary, len(d.assets), d.created_at, d.id]


def _dataset_list(items: Iterable[RemoteDataset]) -> list[RemoteDataset]:
    return display.TableList(items, "Datasets", DATASET_HEADERS, _dataset_row)
