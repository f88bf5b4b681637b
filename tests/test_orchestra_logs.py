"""An in-process Datasite keeps its server log out of the notebook (issue 14, small things):
a refused call used to print tornado's ``403 GET ...`` line into the user's cell."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

# A Jupyter kernel puts a stderr handler on the "tornado" logger: the access lines must not
# reach it either (they would print into every cell).
KERNEL_HANDLER = 'import logging, sys; logging.getLogger("tornado").addHandler(logging.StreamHandler(sys.stderr))'


@pytest.mark.parametrize("preamble", ["", KERNEL_HANDLER], ids=["plain", "kernel-handler"])
def test_refused_calls_log_to_the_datasites_file_not_the_cell(tmp_path, preamble):
    script = textwrap.dedent(
        f"""
        {preamble}
        import jupyter_syft as sy
        node = sy.orchestra.launch(name="quiet", data_dir={str(tmp_path)!r}, reset=True)
        guest = node.login_as_guest()
        try:
            guest.users.get_all()
        except sy.SyftException:
            print("refused")
        node.land()
        """
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert "refused" in ran.stdout
    cell = ran.stdout + ran.stderr
    # 403 as a status, not inside the launch message's random port (40373, 54403)
    assert not re.search(r"(?<!\d)403(?!\d)", cell) and "/syft/api/" not in cell, cell
    log = (tmp_path / "datasite.log").read_text()
    assert "403 GET /syft/api/v1/users" in log
