"""The three hosts of a Datasite. Each one serves the same HTTP layer (``server/http``) over the
same services, and starts its Datasite through ``bootstrap``:

- ``standalone``: its own tornado server; ``jupyter-syft serve`` (``cli.py``) in a process,
  ``DatasiteServer`` in a thread;
- ``orchestra``: ``sy.orchestra.launch`` from a notebook or script, on a loopback port;
- ``extension``: the Jupyter server extension, a Datasite inside ``jupyter lab``.
"""
