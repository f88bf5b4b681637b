"""Datasets as a data owner writes them: ``sy.Dataset``, ``sy.Asset``, ``sy.Contributor``, built
in the notebook and sent with ``client.upload_dataset``. (Browsing what is on a Datasite is
``datasets.py``.) Importing this module stays light: ``import jupyter_syft`` may load it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import display
from ..action_object import EMPTY
from ..errors import SyftException, SyftSuccess
from .contributor import Contributor, contributor_list
from .data_subjects import DataSubject, as_data_subject, data_subject_list

if TYPE_CHECKING:
    from .session import Session

# Set by Asset.no_mock() (or PySyft's mock=sy.ActionObject.empty()): no mock, on purpose.
_NO_MOCK = EMPTY


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
        self.contributors = contributor_list(contributors)
        self.shape = shape
        self.mock_is_real = mock_is_real
        self.data_subjects: list[DataSubject] = data_subject_list(data_subjects)
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

    def add_data_subject(self, data_subject: DataSubject | str) -> None:
        """Name who or what this asset is about (register the subject with
        ``client.data_subject_registry.add_data_subject`` to give it aliases and members)."""
        subject = as_data_subject(data_subject)
        if subject not in self.data_subjects:
            self.data_subjects.append(subject)

    def add_contributor(
        self,
        name: str,
        email: str,
        role: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ) -> None:
        self.contributors = contributor_list(
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
                ("Data subjects", ", ".join(d.name for d in self.data_subjects)),
            ],
            extra_html=(
                f"<h4>Mock data{' (real)' if self.mock_is_real else ''}</h4>"
                + display.value_html(self.mock, max_rows=10)
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
        self.contributors = contributor_list(contributors)
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
        self.contributors = contributor_list(
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


def upload_dataset(session: Session, dataset: Dataset, progress: bool = True) -> SyftSuccess:
    from .. import serde
    from .datasets import RemoteDataset

    if not isinstance(dataset, Dataset):
        raise SyftException(f"upload_dataset takes a sy.Dataset, not {type(dataset).__name__}.")
    dataset.check()
    api = session.api
    api.preflight_dataset(dataset.name)  # permission and name, before any bytes
    asset_specs, total = [], 0
    bar = _asset_bar(len(dataset.asset_list), progress)
    for asset in dataset.asset_list:
        if bar is not None:
            bar.set_description(f"Uploading: {asset.name}")
        data = api.upload_blob(serde.encode(asset.data), label=f"{asset.name} (data)")
        mock = (
            api.upload_blob(serde.encode(asset.mock), label=f"{asset.name} (mock)")
            if asset.has_mock
            else None
        )
        total += data.size + (mock.size if mock else 0)
        asset_specs.append(
            {
                "name": asset.name,
                "description": asset.description,
                "contributors": [c.to_json() for c in asset.contributors],
                "data": data.blob_id,
                "mock": mock.blob_id if mock else None,
                "mock_is_real": asset.mock_is_real,
                "shape": list(asset.shape) if asset.shape else None,
                "data_subjects": [d.name for d in asset.data_subjects],
            }
        )
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    created = api.create_dataset(
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
        value=RemoteDataset(session, created),
    )


def _asset_bar(n: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n, desc="Uploading", unit="asset")
