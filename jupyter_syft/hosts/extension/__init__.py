"""The Jupyter server host: a Datasite inside ``jupyter lab`` (``app``), its routes for the
JupyterLab user and for remote clients (``handlers``), and the sidebar's proxy to remote
Datasites (``remotes``). ``jupyter_syft._jupyter_server_extension_points`` names ``app``."""
