"""Server configuration for the Galata tests: JupyterLab with a fresh, seeded Datasite.

Runs as root on CI machines (allow_root). The Datasite lives in a new temp folder each start,
with the demo dataset and a known owner password (the tests' Python client logs in with it).
"""

import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.port = int(os.environ.get("SYFT_UI_TEST_PORT", "8888"))  # noqa: F821
# Only errors: Galata's own requests log a 404 warning per test, which would drown them.
c.Application.log_level = os.environ.get("SYFT_UI_TEST_LOG_LEVEL", "ERROR")  # noqa: F821

c.SyftExtension.datasite_name = "galata-datasite"  # noqa: F821
c.SyftExtension.data_dir = os.environ.get("JUPYTER_SYFT_DATA_DIR") or tempfile.mkdtemp(  # noqa: F821
    prefix="syft-galata-datasite-"
)
c.SyftExtension.root_password = os.environ.get(  # noqa: F821
    "JUPYTER_SYFT_ROOT_PASSWORD", "galata-owner-pw-1"
)
c.SyftExtension.seed_demo = True  # noqa: F821
