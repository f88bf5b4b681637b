"""Starting a Datasite's code runner in the background, so no request pays for it.

Starting the runner means probing the sandbox (``bwrap ... python -V``, ~45 ms, twice where
``--disable-userns`` is missing) and then starting the first warm worker (~0.5 s of CPU in its
own process: importing numpy, pandas and pyarrow). ``RunnerStart`` does it in a thread of its
own: ``sy.orchestra.launch`` starts it as soon as it knows the Datasite's folder, before it
imports and opens the rest (SQLAlchemy, the store), so the worker warms up on the other core
while the Datasite opens, and the first blocking call finds it ready; the other hosts start it
once they serve (``Datasite.start_background``).

Importing this module stays light: the execution package is imported in the thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import bytecode

if TYPE_CHECKING:
    from .execution import Runner

log = logging.getLogger("jupyter_syft.server")


class RunnerStart:
    """A ``CodeRunner`` being started in the background, then the package's stale bytecode
    compiled for the later workers (``bytecode``). ``result()`` waits for the runner."""

    def __init__(
        self,
        work_dir: Path,
        hidden_paths: Sequence[Path],
        warm_environments: int = 3,
        sandbox: str = "auto",
    ):
        self._work_dir = Path(work_dir)
        self._hidden = [Path(p) for p in hidden_paths]
        self._warm_environments = warm_environments
        self._sandbox = sandbox
        self._runner: Runner | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="syft-runner-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            from .execution import CodeRunner

            self._runner = CodeRunner(
                work_dir=self._work_dir,
                hidden_paths=self._hidden,
                warm_environments=self._warm_environments,
                sandbox=self._sandbox,
            )
        except BaseException as exc:  # said by result(), to the first run that needs it
            self._error = exc
        # After the runner: its first worker is on its way (a stale file costs that start
        # ~0.14 s at most), and where nothing is stale (the usual case) this check is not in
        # its way. A low-priority process; reaped by a thread of its own.
        try:
            compiling = bytecode.compile_stale()
        except Exception:  # the workers compile from source, as without this
            log.exception("Checking the bytecode of jupyter_syft failed")
            return
        if compiling is not None:
            threading.Thread(target=compiling.wait, name="syft-compile", daemon=True).start()

    @classmethod
    def for_datasite(cls, data_dir: Path, **options: Any) -> RunnerStart:
        """Start the runner of the Datasite whose folder is ``data_dir`` (made here if new,
        private from the start: its workers must not see it)."""
        data_dir = Path(data_dir)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        return cls(work_dir(data_dir), [data_dir], **options)

    def result(self) -> Runner | None:
        """The started runner, once it is; None if starting it failed (logged: whoever asked
        starts it again, and gets the error itself)."""
        self._thread.join()
        if self._error is not None:
            log.error("Starting the code runner in the background failed: %s", self._error)
        return self._runner

    def close(self) -> None:
        """Stop what was started (the Datasite that was to take it failed to open)."""
        runner = self.result()
        if runner is not None:
            runner.close()


def work_dir(data_dir: Path) -> Path:
    """Where a Datasite's runs keep their files: inside its private folder."""
    return Path(data_dir) / "work"
