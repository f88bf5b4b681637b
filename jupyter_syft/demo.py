"""Demo data for a fresh Datasite: the breast-cancer dataset from scikit-learn, with a mock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server.datasite import Datasite

DEMO_DATASET = "Breast Cancer Wisconsin"


def breast_cancer_frames(seed: int = 12) -> tuple[Any, Any, Any, Any]:
    """(features, targets, mock features, mock targets): the mock keeps columns and dtypes,
    with values drawn per column from a normal fit, so it is useful and says nothing real."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    features: pd.DataFrame = bunch.data
    targets = pd.DataFrame({"Diagnosis": np.where(bunch.target == 1, "B", "M")})
    rng = np.random.default_rng(seed)
    mock_features = pd.DataFrame(
        {
            c: rng.normal(features[c].mean(), features[c].std(), len(features)).clip(0)
            for c in features
        },
    )
    mock_targets = pd.DataFrame({"Diagnosis": rng.choice(["B", "M"], size=len(features))})
    return features, targets, mock_features, mock_targets


def seed_demo_data(datasite: Datasite) -> bool:
    """Add the demo dataset unless it is already there. True if it was added.

    Uploaded through the services as the Datasite's owner, as if they had uploaded it."""
    from .server.services.errors import Conflict
    from .wire.models import AssetCreate, DatasetCreate

    datasets = datasite.services.datasets
    owner = datasite.services.auth.owner_actor()
    try:
        datasets.preflight(owner, DEMO_DATASET)
    except Conflict:  # seeded before
        return False
    features, targets, mock_features, mock_targets = breast_cancer_frames()
    assets: list[AssetCreate] = []
    for name, data, mock in (
        ("BC Features", features, mock_features),
        ("BC Targets", targets, mock_targets),
    ):
        data_blob = datasets.store_value(owner, data)
        mock_blob = datasets.store_value(owner, mock)
        assets.append(AssetCreate(name=name, data=data_blob.blob_id, mock=mock_blob.blob_id))
    datasets.create(
        owner,
        DatasetCreate(
            name=DEMO_DATASET,
            summary="Diagnostic Wisconsin Breast Cancer Database.",
            description=(
                "Features computed from digitized images of fine needle aspirates of breast "
                "masses. "
                "The mock has the same columns, with synthetic values."
            ),
            url="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
            assets=assets,
        ),
    )
    return True
