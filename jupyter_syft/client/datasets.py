"""Datasets on a Datasite, as everyone browses them: ``client.datasets[...]``, its assets, their
mocks (and private data, for those allowed). Writing and uploading one is
``dataset_authoring.py``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftError, SyftException, SyftSuccess, show
from . import eager
from .collection import Collection
from .contributor import Contributor
from .data_subjects import DataSubject
from .identity import ServerIdentity
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

NO_ACCESS = "You do not have permission to access private data."
_NOT_LOADED = object()


class RemoteAsset(View):
    """An asset on a Datasite. ``mock`` downloads the mock; ``data`` only for those allowed."""

    _model: models.Asset

    def __init__(self, session: Session, asset: models.Asset, dataset_name: str = ""):
        super().__init__(session, asset)
        self._dataset_name = dataset_name
        self._mock: Any = _NOT_LOADED
        self._private: Any = _NOT_LOADED

    id = Field()
    name = Field()
    description = Field()
    mock_is_real = Field()
    has_mock = Field()
    can_read_data = Field()
    created_at = Field()

    @property
    def shape(self) -> tuple[int, ...] | None:
        return tuple(self._model.shape) if self._model.shape else None

    @property
    def contributors(self) -> list[Contributor]:
        return [Contributor(**c.to_json()) for c in self._model.contributors]

    @property
    def data_subjects(self) -> list[DataSubject]:
        """Who or what this asset is about, as its owner named them."""
        return [DataSubject(name=name) for name in self._model.data_subjects]

    def policy_input(self) -> dict[str, Any]:
        """How a policy, or a call, names this asset on the wire (see ``policies.py``)."""
        return {"kind": "asset", "id": self.id, "name": self.name}

    @property
    def action_id(self) -> str:
        """PySyft's id of the asset's data object: here the asset's id, which policies and
        calls name (``sy.ExactMatch(data=asset)`` binds it)."""
        return self.id

    @property
    def server_identity(self) -> ServerIdentity:
        """The Datasite this asset is on."""
        return ServerIdentity.from_session(self._session)

    @property
    def pointer(self) -> Any:
        """PySyft's eager pointer: refused with the Syft-function way (see ``eager``)."""
        eager.refuse("asset.pointer")

    @property
    def mock(self) -> Any:
        if self._mock is _NOT_LOADED:
            if not self.has_mock:
                raise SyftException(
                    f"Asset {self.name!r} has no mock: its owner published it without one."
                )
            self._mock = self._session.api.asset_value(self.id, "mock", label=f"{self.name} (mock)")
        return self._mock

    @property
    def data(self) -> Any:
        """The private value, for owners. Others see why not, and get None (as in PySyft)."""
        if not self.can_read_data:
            show(SyftError(NO_ACCESS))
            return None
        if self._private is _NOT_LOADED:
            self._private = self._session.api.asset_value(self.id, "data", label=self.name)
        return self._private

    def _preview(self, which: str, rows: int = 5) -> Any:
        return self._session.api.asset_head(self.id, which, rows)

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
                ("Data subjects", ", ".join(self._model.data_subjects)),
                ("Created on", self.created_at),
                ("Description", self.description),
            ],
            extra_html=f"<h4>Data</h4>{private}<h4>Mock data{real}</h4>{mock}",
            kind="Asset",
        )


def _value_html(value: Any) -> str:
    return display.value_html(value, max_rows=10)


ASSET_HEADERS = ["Asset", "Shape", "Mock", "ID"]


def _asset_row(a: RemoteAsset) -> list[Any]:
    return [a.name, a.shape, "yes" if a.has_mock else "no", a.id]


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


class RemoteDataset(View):
    _model: models.Dataset

    def __init__(self, session: Session, dataset: models.Dataset):
        super().__init__(session, dataset)
        self.assets = AssetList([RemoteAsset(session, a, dataset.name) for a in dataset.assets])

    id = Field()
    name = Field()
    summary = Field()
    description = Field()
    citation = Field()
    url = Field()
    created_at = Field()
    mb_size = Field()

    @property
    def uploader(self) -> dict[str, Any] | None:
        uploader = self._model.uploader
        return None if uploader is None else uploader.to_json()

    @property
    def contributors(self) -> list[Contributor]:
        return [Contributor(**c.to_json()) for c in self._model.contributors]

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
            + display.table(ASSET_HEADERS, self.assets._rows()),
            kind="Dataset",
        )


class DatasetPage:
    """One page of a dataset search (PySyft's ``DatasetPageView``)."""

    def __init__(self, datasets: list[RemoteDataset], total: int):
        self.datasets = datasets
        self.total = total

    def __len__(self) -> int:
        return len(self.datasets)

    def __repr__(self) -> str:
        return f"{self.datasets!r}\n({len(self.datasets)} of {self.total})"

    def _repr_html_(self) -> str:
        table = getattr(self.datasets, "_repr_html_", None)
        shown = table() if table else ""
        return f"{shown}<p>{len(self.datasets)} of {self.total}</p>"


DatasetPageView = DatasetPage  # PySyft's name (``syft.service.dataset.dataset``)


class DatasetCollection(Collection[RemoteDataset]):
    """``client.datasets``: by position, by name, ``search(name=)``, ``get_all()``."""

    title = "Datasets"
    headers = ("Name", "Summary", "Assets", "Created", "ID")

    def _fetch(self) -> Iterable[RemoteDataset]:
        return (RemoteDataset(self._session, d) for d in self._session.api.datasets())

    def _row(self, d: RemoteDataset) -> list[Any]:
        return [d.name, d.summary, len(d.assets), d.created_at, d.id]

    def _find(self, key: str) -> RemoteDataset:
        for dataset in self._items:
            if key in (dataset.name, dataset.id):
                return dataset
        names = ", ".join(repr(d.name) for d in self._items) or "none"
        raise SyftException(f"No dataset named {key!r} on this Datasite. Datasets: {names}.")

    def _no_position(self, index: int) -> Exception:
        return SyftException(
            f"There is no dataset at position {index}: this Datasite has {len(self)}."
        )

    def get_by_id(self, uid: str) -> RemoteDataset:
        return self._find(uid)

    def search(
        self, name: str, page_size: int | None = None, page_index: int = 0
    ) -> list[RemoteDataset] | DatasetPage:
        """Datasets whose name contains ``name`` (any case). With ``page_size``, as PySyft:
        one page of them, ``.datasets`` and ``.total``; ``page_index`` counts from 0."""
        found = [d for d in self._items if name.lower() in d.name.lower()]
        if page_size is None:
            return self.table(found)
        if not isinstance(page_size, int) or page_size < 1:
            raise SyftException(f"page_size must be a positive number, not {page_size!r}.")
        if not isinstance(page_index, int) or page_index < 0:
            raise SyftException(f"page_index counts from 0; {page_index!r} is not one.")
        start = page_size * page_index
        return DatasetPage(self.table(found[start : start + page_size]), len(found))

    def delete(self, key: str) -> SyftSuccess:
        dataset = self[key]
        self._session.api.delete_dataset(dataset.id)
        return SyftSuccess(f"Dataset '{dataset.name}' deleted.")

    def assets_by_id(self) -> dict[str, RemoteAsset]:
        """Every asset of every dataset here, by id."""
        return {asset.id: asset for dataset in self._items for asset in dataset.assets}
