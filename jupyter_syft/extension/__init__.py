"""The Jupyter server extension: a Datasite hosted inside ``jupyter lab``."""
