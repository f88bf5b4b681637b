"""The Datasite backend: store, services, HTTP layer. Nothing here imports Jupyter."""
