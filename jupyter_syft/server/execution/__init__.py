"""Running approved user code: never in the server process, one job per worker process.

``CodeRunner.run(RunSpec)`` hands one function call to a fresh worker process
(``worker.py``) with CPU, memory, process and file-size limits and a wall-clock
timeout; the worker gets its inputs as read-only file descriptors and sends its result back
over a socket. Modules: ``seam`` (the ``Runner`` and ``ProgressSink`` protocols the services
see), ``spec`` (the API's data types), ``sandbox`` (how a worker starts), ``stage`` (root
helper that makes Python reachable for the worker's uid), ``pool`` (warm workers, one kept
for blocking calls only), ``worker`` (the worker process: the one place user code runs),
``protocol`` (runner <-> worker frames), ``job`` (one job: hand-off and outcome), ``nested``
(answering a job's nested-job and progress calls from its plan), ``runner`` (CodeRunner),
``dask_runner`` (the same on a Dask cluster, for scale-out), ``fair_queue`` (the job
queue's turns between scientists), ``default_lock`` (the lock hash of the default environment).

Environments (``RunSpec.environment``): the worker is the Datasite's interpreter with the
environment's site-packages first on ``sys.path`` and its folder bound read-only into the
sandbox (``sandbox.Launcher.for_environment``); each environment has its own warm pool, a
bounded number of them (``pool.EnvironmentPools``); every result carries the lock hash.

What holds the user code, by deployment:

- root + bubblewrap (the intended setup): uid 65534, no network, read-only file system,
  the Datasite's folder and /tmp, /run hidden, its own pid namespace (everything it starts
  dies with it), RLIMIT_NPROC counted per sandbox.
- root, no bubblewrap: uid 65534 and the limits only. It can use the network and read
  what uid 65534 may read, including the temp files of other jobs running at the same time
  (not their memory: workers are not dumpable); a child that calls setsid() can outlive the
  job; RLIMIT_NPROC is shared by all jobs. The runner logs a warning.
- not root: workers keep the server's uid (RLIMIT_NPROC then counts all of that user's
  processes; each job gets ``max_processes`` on top of those). With bubblewrap, the user's
  home is hidden too. Without it the user code can do anything the user can: development
  only.

bubblewrap leaves the sandbox's init process for the system's init to reap: if the server
is PID 1 of a container, run it under an init (``docker run --init``).
"""

from .runner import CodeRunner
from .sandbox import SandboxUnavailable
from .seam import ProgressSink, Runner
from .spec import Limits, NestedFunction, NestedRun, RunResult, RunSpec

__all__ = [
    "CodeRunner",
    "Limits",
    "NestedFunction",
    "NestedRun",
    "ProgressSink",
    "RunResult",
    "RunSpec",
    "Runner",
    "SandboxUnavailable",
]
