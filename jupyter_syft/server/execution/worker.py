"""The worker process: runs ONE approved Syft function, sends back its result, and exits.

The code runner (``pool.start_worker``) starts it as
``python -I -B -m jupyter_syft.server.execution.worker FD [--nice=N]``, already as an
unprivileged uid and, where bubblewrap works, inside a sandbox; FD is its end of the control
socket (``--nice``: a worker for a background job lowers its CPU priority). The worker imports
numpy, pandas and pyarrow, reports READY and waits. Under bubblewrap it is usually forked
instead, already warm, from the worker template (``template.py``), and enters ``serve``.
Its job arrives as one frame carrying the source, the limits and file descriptors for
stdout, stderr and each input (see
``jupyter_syft.server.execution.protocol``). It then limits itself (CPU, memory, processes,
file size), maps its inputs, defines the function, calls it, streams the encoded result back
and exits at once: no exit handlers, no waiting for threads the user code left behind.

A job that carries a rule set (a run on private data or its mock) has its result checked for
disclosure (``jupyter_syft.disclosure``), and the checks must be out of reach of the code they
judge, so the worker splits in two:

- The worker (the parent) loads the inputs, imports the checks and forks. It never runs user
  code: it relays the child's calls (nested jobs, progress: CALL/REPLY frames, checked) to the
  control socket, receives the child's encoded result, decodes it with ``serde`` (no pickle),
  checks it against its own inputs (private copy-on-write mappings: the child's writes never
  reach them) and only then streams the bytes it received to the runner, with the report in
  the DONE status.
- The child closes the control socket, installs the pandas tracking (``disclosure.track``),
  defines and calls the function, and sends back over a socket pair its encoded result, the
  per-cell group statistics of the tracked tables in it (``checks.collect_claims``, JSON,
  bounded; the parent treats them as untrusted evidence) and a status, then exits. Whatever
  it changes in its own memory (the checks, the tracking, the report code) stays there.

Both are non-dumpable (``harden``, kept across fork): the child can neither ptrace the parent
nor read its memory or descriptors in /proc. A child killed by a signal (CPU limit, memory)
makes the parent end with the same signal, and a child that exits without a result makes it
exit with the same status, so the runner reports them exactly as for a single process.

This is the only module of jupyter_syft that executes user code.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import linecache
import math
import mmap
import os
import resource
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

from jupyter_syft import serde
from jupyter_syft.disclosure.helpers import AnalysisHelpers
from jupyter_syft.server.execution import protocol

ERROR_LIMIT = 64 << 10  # characters of error text sent back

_LINUX = sys.platform.startswith("linux")
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38

CLAIMS = b"K"  # child -> worker: the group statistics of the result's tracked tables (JSON)
MAX_CLAIMS = 16 << 20  # bytes of claims JSON (tables beyond stay "review")
POLICY_STATE = b"P"  # child -> worker: a custom output policy's state after the run (JSON)
MAX_POLICY_STATE = 1 << 20  # bytes of that JSON (the policy's own cap is far below)
POLICY_SECONDS = 10.0  # wall-clock seconds each call of a custom policy's method may take
_POLL = 0.25  # seconds between checks that the child is still alive


class _BadSource(Exception):
    """The source is not exactly one plain ``def`` of the expected name."""


class _FunctionRef:
    """Stands for another submitted Syft function: pass it to ``datasite.launch_job``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{self.name} runs as a nested job here: datasite.launch_job({self.name}, ...)"
        )

    def __repr__(self) -> str:
        return f"<Syft function {self.name}>"


class _Result:
    def __init__(self, value: Any):
        self._value = value

    def get(self) -> Any:
        return self._value


class _NestedJob:
    """A finished nested job: ``.result`` is its value (``.wait().get()`` works too)."""

    def __init__(self, name: str, value: Any):
        self.name = name
        self.result = value

    def wait(self, *args: Any, **kwargs: Any) -> _Result:
        return _Result(self.result)

    def get(self) -> Any:
        return self.result

    def __repr__(self) -> str:
        return f"<Job {self.name}: completed>"


class _Datasite(AnalysisHelpers):
    """The ``datasite`` argument: nested jobs and progress, asked of the server over the
    control socket (the sandbox has no network; in a checked job, over the socket pair to the
    worker, which relays), and the checked analyses of ``disclosure.helpers`` (``crosstab``,
    ``ols``...: they record the counts behind their outputs for the checks)."""

    def __init__(self, sock: socket.socket):
        import threading

        self._sock = sock
        self._lock = threading.Lock()  # one call on the socket at a time

    def _call(self, header: dict[str, Any], data: bytes = b"") -> tuple[dict[str, Any], bytes]:
        with self._lock:
            protocol.send_frame(self._sock, protocol.CALL, protocol.pack_call(header, data))
            kind, payload, _ = protocol.recv_frame(self._sock, max_size=protocol.MAX_CALL_FRAME)
        if kind != protocol.REPLY:
            raise RuntimeError("The Datasite did not answer the call.")
        return protocol.unpack_call(payload)

    def launch_job(self, func: Any, **kwargs: Any) -> _NestedJob:
        name = func.name if isinstance(func, _FunctionRef) else getattr(func, "__name__", func)
        if not isinstance(name, str):
            raise TypeError("launch_job takes a submitted Syft function, e.g. launch_job(f, x=1)")
        reply, data = self._call({"call": "launch_job", "name": name}, serde.dumps(kwargs))
        if not reply.get("ok"):
            raise RuntimeError(str(reply.get("error") or f"The nested job {name} failed."))
        return _NestedJob(name, serde.loads(data))

    def _progress(self, op: str, n: int) -> None:
        self._call({"call": "progress", "op": op, "n": int(n)})

    def init_progress(self, n_iters: int) -> None:
        self._progress("init", n_iters)

    def set_progress(self, to: int) -> None:
        self._progress("set", to)

    def increment_progress(self, n: int = 1) -> None:
        self._progress("increment", n)


def harden() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not _LINUX:
        return
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # setuid programs cannot give the job privileges
    # Other processes of the same uid (e.g. another job's leftovers when there is no sandbox)
    # may not ptrace this one or read its memory and descriptors through /proc.
    prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with the server


def _die_with_parent(parent: int) -> None:
    """In the child: PR_SET_PDEATHSIG is cleared by fork, so set it again (and leave at once
    if the parent is already gone)."""
    if _LINUX:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def preload() -> None:
    """Import the heavy libraries and take the decoding paths once, before any job arrives."""
    import numpy  # noqa: F401
    import pandas
    import pyarrow  # noqa: F401

    serde.decode(serde.dumps(pandas.DataFrame({"a": [1, 2]})))


def _cap(res: int, value: int, hard_extra: int = 0) -> None:
    """Lower a limit for good (soft and hard; never above the inherited hard limit)."""
    _, hard = resource.getrlimit(res)
    soft, new_hard = value, value + hard_extra
    if hard != resource.RLIM_INFINITY:
        soft, new_hard = min(soft, hard), min(new_hard, hard)
    try:
        resource.setrlimit(res, (soft, new_hard))
    except (OSError, ValueError):
        if _LINUX:  # a job must not run without its limits; elsewhere they are best effort
            raise


def _tasks_of_my_uid() -> int:
    """Processes and threads of this uid: RLIMIT_NPROC counts them all, so the job's
    allowance is added on top. Inside bwrap only the sandbox's own are visible (and counted:
    the kernel counts per user namespace); without it every job of the uid shares the count."""
    uid = os.getuid()
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                text = f.read()
            real_uid = int(text.split(b"\nUid:", 1)[1].split(None, 1)[0])
            if real_uid == uid:
                total += int(text.split(b"\nThreads:", 1)[1].split(None, 1)[0])
        except (OSError, IndexError, ValueError):
            continue
    return total


def _apply_limits(limits: dict[str, Any], extra_processes: int = 0) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # RLIMIT_CPU counts from process start, so the import time is added. SIGXCPU at the soft
    # limit, SIGKILL one second later if the job ignores it.
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + float(limits["cpu_seconds"]))
    _cap(resource.RLIMIT_CPU, cpu, hard_extra=1)
    _cap(resource.RLIMIT_AS, int(limits["memory_mb"]) << 20)
    _cap(resource.RLIMIT_FSIZE, int(limits["max_result_bytes"]))
    if _LINUX:  # elsewhere there is no /proc to count from
        allowance = int(limits["max_processes"]) + extra_processes
        _cap(resource.RLIMIT_NPROC, _tasks_of_my_uid() + allowance)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too-long writes fail with EFBIG instead


class _InputError(Exception):
    def __init__(self, name: str, cause: BaseException):
        super().__init__(name, cause)
        self.name = name
        self.cause = cause


def _load_inputs(names: list[str], fds: list[int]) -> dict[str, Any]:
    """Decode each input from its descriptor, then close them all: from here on the job holds
    no handle to the stored files, only private copy-on-write mappings of them."""
    values: dict[str, Any] = {}
    try:
        if len(names) != len(fds):
            raise ValueError(f"{len(names)} inputs but {len(fds)} descriptors")
        for name, fd in zip(names, fds, strict=True):
            try:
                size = os.fstat(fd).st_size
                if size == 0:
                    raise serde.SerdeError("the file is empty")
                data = mmap.mmap(fd, size, access=mmap.ACCESS_COPY)  # zero copy, never written back
                values[name] = serde.decode(memoryview(data))
            except (OSError, ValueError, MemoryError) as exc:
                raise _InputError(name, exc) from exc
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    return values


def _define(
    source: str, name: str, filename: str, nested: list[str] | None = None
) -> Callable[..., Any]:
    tree = ast.parse(source, filename)
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef) or body[0].name != name:
        raise _BadSource(
            f"The code must be exactly one function definition, `def {name}(...):`, with "
            "nothing else at the top level."
        )
    if body[0].decorator_list:
        raise _BadSource(f"The function {name} must be sent without decorators.")
    # Tracebacks show the user's lines from here (a "<...>" file is never read from disk).
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # dont_inherit: this module's `from __future__ import annotations` must not change theirs.
    code = compile(source, filename, "exec", dont_inherit=True)
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__syft_function__"}
    for ref in nested or ():
        if isinstance(ref, str) and ref.isidentifier() and ref != name:
            namespace[ref] = _FunctionRef(ref)
    # The one place jupyter_syft executes user code. It is safe here: this process is a
    # throwaway worker running as an unprivileged uid (sandboxed by bubblewrap where
    # available) under CPU, memory and process limits, holding only this job's inputs.
    exec(code, namespace)  # noqa: S102
    func = namespace.get(name)
    if not callable(func):
        raise _BadSource(f"The code does not define a function {name}.")
    return func


def _keep_user_frames(te: traceback.TracebackException, filename: str, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename == filename])
    for linked in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or ())):
        if linked is not None:
            _keep_user_frames(linked, filename, seen)


def _bounded(text: str) -> str:
    if len(text) <= ERROR_LIMIT:
        return text
    half = ERROR_LIMIT // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters left out ...]\n{text[-half:]}"


def _user_error(exc: BaseException, filename: str, limits: dict[str, Any]) -> dict[str, Any]:
    """``Type: message``, then the traceback with the user's frames only: no worker or
    library frames, so no paths of this machine."""
    if isinstance(exc, _BadSource):
        return {"ok": False, "error_kind": "user_error", "error": str(exc)}
    te = traceback.TracebackException.from_exception(exc)
    _keep_user_frames(te, filename, set())
    summary = next(
        (line for line in te.format_exception_only() if not line.startswith(" ")), ""
    ).strip()
    summary = summary.splitlines()[0] if summary else type(exc).__name__
    text = f"{summary}\n\n{''.join(te.format()).rstrip()}"
    kind = "user_error"
    if isinstance(exc, MemoryError):
        kind = "memory"
        text += f"\n\nThe function ran out of memory (its limit is {limits['memory_mb']} MB)."
    return {"ok": False, "error_kind": kind, "error": _bounded(text)}


def _failure(kind: str, error: str, detail: str = "") -> dict[str, Any]:
    return {"ok": False, "error_kind": kind, "error": _bounded(error), "detail": _bounded(detail)}


def _send_result(sock: socket.socket, value: Any, max_bytes: int) -> dict[str, Any]:
    try:
        encoded = serde.encode(value)
    except serde.SerdeError as exc:
        return _failure("bad_result", f"The function's return value cannot be sent back: {exc}")
    except MemoryError:
        return _failure("memory", "The function's return value is too large to encode.")
    except Exception as exc:
        return _failure(
            "bad_result",
            f"The function's return value cannot be encoded: {type(exc).__name__}: {exc}",
        )
    if encoded.nbytes > max_bytes:
        return _failure(
            "bad_result",
            f"The function's result is {encoded.nbytes:,} bytes once encoded, more than the "
            f"limit of {max_bytes:,} bytes. Return a smaller value (e.g. an aggregate).",
        )
    for chunk in encoded.iter_chunks(protocol.CHUNK):
        protocol.send_frame(sock, protocol.DATA, chunk)
    return {"ok": True, "result_bytes": encoded.nbytes}


class _Checker:
    """The disclosure checks of this job's result (``jupyter_syft.disclosure``), imported in
    the worker before it forks and run there, after the child returned its result: out of
    the user code's reach, under the job's limits. Whatever goes wrong here becomes a "review"
    report with the reason (a result nobody could check is never a pass)."""

    def __init__(self, rules: Any):
        self.name, self.digest = "unknown", ""
        self.error = ""
        self.rules_json = rules
        try:
            from jupyter_syft.disclosure import RuleSet, check_result

            self.rules = RuleSet.from_json(rules)
            self.name, self.digest = str(self.rules.name), str(self.rules.digest())
            self._check = check_result
        except BaseException as exc:  # a broken install or rule set: nothing can be checked
            self.error = f"The disclosure checks could not start ({type(exc).__name__})."

    def report(
        self,
        value: Any,
        inputs: dict[str, Any],
        claims: list[Any] | None = None,
        encoded_size: int | None = None,
    ) -> dict[str, Any]:
        if self.error:
            return self._review(self.error)
        try:
            report = self._check(
                value, inputs, self.rules, encoded_size=encoded_size, claims=claims or []
            )
            json.dumps(report)  # it must travel as JSON
        except MemoryError:
            return self._review("The disclosure checks ran out of memory.")
        except BaseException as exc:
            return self._review(f"The disclosure checks failed ({type(exc).__name__}).")
        if not isinstance(report, dict):
            return self._review("The disclosure checks gave no report.")
        return report

    def _review(self, reason: str) -> dict[str, Any]:
        check = {"rule": "checker", "outcome": "review", "reason": reason, "cells": []}
        return {
            "outcome": "review",
            "rules": self.name,
            "rules_digest": self.digest,
            "checks": [check],
        }


def _serve(sock: socket.socket, job: dict[str, Any], fds: list[int]) -> dict[str, Any]:
    if len(fds) < 2:
        return _failure("internal", "The worker received no output pipes.")
    out_fd, err_fd, *input_fds = fds
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    os.close(out_fd)
    os.close(err_fd)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    limits = job["limits"]
    checked = job.get("rules") is not None
    _apply_limits(limits, extra_processes=1 if checked else 0)  # the child, when checked
    name = job["func_name"]
    filename = f"<syft function {name}>"
    try:
        kwargs = _load_inputs(job["inputs"], input_fds)
    except _InputError as exc:
        if isinstance(exc.cause, MemoryError):
            return _failure(
                "memory",
                f"The input {exc.name!r} does not fit in the memory limit of "
                f"{limits['memory_mb']} MB.",
            )
        return _failure(
            "internal",
            f"The worker could not read the input {exc.name!r}.",
            f"{type(exc.cause).__name__}: {exc.cause}",
        )
    if checked:
        return _serve_checked(sock, job, kwargs)
    if job.get("policies"):  # policy code runs only in the child of a checked job
        return _failure("internal", "A job with custom policies must be a checked job.")
    try:
        value = _call(sock, job, kwargs)
    except BaseException as exc:  # everything the user code raises is the user's error
        return _user_error(exc, filename, limits)
    return _send_result(sock, value, int(limits["max_result_bytes"]))


def _call(sock: socket.socket, job: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    name = job["func_name"]
    func = _define(job["source"], name, f"<syft function {name}>", job.get("nested"))
    if "datasite" in func.__code__.co_varnames[: func.__code__.co_argcount]:
        kwargs.setdefault("datasite", _Datasite(sock))
    return func(**kwargs)


# ---- a checked job: the function in a child, the checks here ---------------------------------


class _Abort(Exception):
    """The child broke the protocol: the run ends with an internal failure."""


def _serve_checked(
    sock: socket.socket, job: dict[str, Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    checker = _Checker(job["rules"])  # imported before the fork: the child cannot touch ours
    inputs = dict(kwargs)  # what the checks compare the result with (not ``datasite``)
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    _flush()  # nothing buffered is written twice
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        mine.close()
        _child(parent, sock, theirs, job, kwargs, checker.rules_json)
    theirs.close()
    child = _Child(pid)
    try:
        wants_state = bool((job.get("policies") or {}).get("output"))
        return _supervise(sock, mine, child, checker, inputs, job["limits"], wants_state)
    finally:
        child.reap()
        mine.close()


class _Child:
    """The child process; its pid is signalled only until it is reaped (never a reused pid)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.code: int | None = None  # its wait status, once reaped

    def exited(self) -> bool:
        if self.code is None:
            done, code = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.code = code
        return self.code is not None

    def ended_badly(self, wait: float) -> bool:
        """Whether it ended (within ``wait`` seconds) by a signal or with a non-zero status."""
        deadline = time.monotonic() + wait
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(0.02)
        code = self.code
        return code is not None and (os.WIFSIGNALED(code) or os.WEXITSTATUS(code) != 0)

    def wait(self) -> int:
        if self.code is None:
            self.code = os.waitpid(self.pid, 0)[1]
        return self.code

    def reap(self) -> None:
        if self.code is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self.wait()


def _child(
    parent: int,
    control: socket.socket,
    chan: socket.socket,
    job: dict[str, Any],
    kwargs: dict[str, Any],
    rules: Any,
) -> NoReturn:
    status: dict[str, Any]
    try:
        _die_with_parent(parent)
        control.close()  # no handle to the control socket: only the socket pair to the parent
        limits = job["limits"]
        # the CPU limit counts from this process's start: the user code gets its allowance
        _cap(resource.RLIMIT_CPU, math.ceil(float(limits["cpu_seconds"])), hard_extra=1)
        filename = f"<syft function {job['func_name']}>"
        try:
            from jupyter_syft.disclosure import checks, track

            # before the user's code runs: pandas aggregations then record their real groups
            track.install()
        except BaseException:  # the tables stay "review" (no claims)
            checks = None  # type: ignore[assignment]
        policies: _Policies | None = None
        try:
            if job.get("policies"):  # the scientist's classes: defined here, in the child
                policies = _Policies(job)
                kwargs = policies.before(kwargs)
            value = _call(chan, job, kwargs)
            state = policies.after(value) if policies is not None else None
        except _PolicyError as exc:
            status = exc.status
        except BaseException as exc:  # everything the user code raises is the user's error
            status = _user_error(exc, filename, limits)
        else:
            if state is not None:
                value, state_json = state
            claims: list[Any] = []
            if checks is not None:
                claims = checks.collect_claims(value, rules, MAX_CLAIMS)
            status = _send_result(chan, value, int(limits["max_result_bytes"]))
            if status.get("ok"):
                if state is not None:
                    protocol.send_frame(chan, POLICY_STATE, state_json)
                protocol.send_frame(chan, CLAIMS, json.dumps(claims).encode())
    except BaseException as exc:  # e.g. SystemExit from user code run while encoding
        status = _failure(
            "internal", "The worker failed.", "".join(traceback.format_exception(exc))
        )
    _flush()
    with contextlib.suppress(BaseException):
        protocol.send_json(chan, protocol.DONE, status)
    os._exit(0)


def _supervise(
    control: socket.socket,
    chan: socket.socket,
    child: _Child,
    checker: _Checker,
    inputs: dict[str, Any],
    limits: dict[str, Any],
    wants_state: bool = False,
) -> dict[str, Any]:
    """Relay the child's calls, collect its result and claims, then check and send."""
    max_bytes = int(limits["max_result_bytes"])
    received = bytearray()
    claims: list[Any] | None = None
    policy_state: dict[str, Any] | None = None
    try:
        while True:
            frame = _from_child(chan, child)
            if frame is None:
                _end_like_the_child(child)
            kind, payload = frame
            if kind == protocol.DATA:
                if len(received) + len(payload) > max_bytes:
                    raise _Abort("more result bytes than the limit")
                received += payload
            elif kind == protocol.CALL:
                _relay(control, chan, payload)
            elif kind == CLAIMS and claims is None:
                claims = _parse_claims(payload)
            elif kind == POLICY_STATE and policy_state is None:
                policy_state = _parse_policy_state(payload)
            elif kind == protocol.DONE:
                status = protocol.parse_json(payload)
                break
            else:
                raise _Abort(f"unexpected frame {kind!r}")
    except (_Abort, protocol.ProtocolError) as exc:
        if isinstance(exc, protocol.ProtocolError) and child.ended_badly(wait=1.0):
            _end_like_the_child(child)  # e.g. killed at its CPU limit in the middle of a frame
        return _failure("internal", "The function's process broke the worker protocol.", str(exc))
    except MemoryError:
        return _failure(
            "memory",
            f"The function's result does not fit in the memory limit of {limits['memory_mb']} "
            "MB a second time, for its disclosure checks. Return a smaller value.",
        )
    if status.get("ok") is not True:
        return _child_failure(status)
    if status.get("result_bytes") != len(received) or claims is None:
        return _failure("internal", "The function's process sent an incomplete result.")
    if policy_state is None and wants_state:
        return _failure("internal", "The function's process sent no policy state.")
    try:
        value = serde.decode(memoryview(received))
    except serde.SerdeError as exc:
        return _failure("bad_result", f"The result is not a valid value: {exc}")
    except MemoryError:
        report = checker._review("The result does not fit in memory a second time for its checks.")
    else:
        report = checker.report(value, inputs, claims, encoded_size=len(received))
        del value
    view = memoryview(received)
    for start in range(0, len(received), protocol.CHUNK):
        protocol.send_frame(control, protocol.DATA, view[start : start + protocol.CHUNK])
    view.release()
    done: dict[str, Any] = {"ok": True, "result_bytes": len(received), "report": report}
    if policy_state is not None:
        done["policy_state"] = policy_state
    return done


def _from_child(chan: socket.socket, child: _Child) -> tuple[bytes, bytes] | None:
    """The child's next frame, or None once it is gone (it exited, or closed its end)."""
    while True:
        ready, _, _ = select.select([chan], [], [], _POLL)
        if not ready:
            if not child.exited():
                continue
            ready, _, _ = select.select([chan], [], [], 0)  # what it sent before it ended
            if not ready:
                return None
        header = chan.recv(protocol.HEADER.size, socket.MSG_WAITALL)
        if not header:
            return None
        if len(header) < protocol.HEADER.size:
            raise protocol.ProtocolError("short frame header")
        kind, size = protocol.HEADER.unpack(header)
        limit = protocol.MAX_CALL_FRAME if kind == protocol.CALL else protocol.MAX_FRAME
        if kind == CLAIMS:
            limit = MAX_CLAIMS
        elif kind == POLICY_STATE:
            limit = MAX_POLICY_STATE
        if size > limit:
            raise _Abort(f"frame {kind!r} of {size} bytes")
        payload = _recv_exact(chan, size)
        return kind, payload


def _recv_exact(chan: socket.socket, size: int) -> bytes:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = chan.recv_into(view[got:])
        if n == 0:
            raise protocol.ProtocolError("the function's process closed its socket mid-frame")
        got += n
    return bytes(buf)


def _relay(control: socket.socket, chan: socket.socket, payload: bytes) -> None:
    """A call of the child (nested job, progress) to the runner, and its reply back."""
    header, _ = protocol.unpack_call(payload)  # ProtocolError: a bad call ends the run
    if not isinstance(header.get("call"), str):
        raise _Abort("a call without a name")
    protocol.send_frame(control, protocol.CALL, payload)
    kind, reply, fds = protocol.recv_frame(control, max_size=protocol.MAX_CALL_FRAME)
    for fd in fds:
        os.close(fd)
    if kind != protocol.REPLY:
        raise _Abort(f"the runner answered a call with {kind!r}")
    protocol.send_frame(chan, protocol.REPLY, reply)


def _parse_claims(payload: bytes) -> list[Any]:
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        raise _Abort("claims that are not JSON") from None
    if not isinstance(claims, list):
        raise _Abort("claims that are not a list")
    return claims


def _parse_policy_state(payload: bytes) -> dict[str, Any]:
    try:
        state = json.loads(payload)
    except (ValueError, RecursionError):
        raise _Abort("a policy state that is not JSON") from None
    if not isinstance(state, dict) or set(state) != {"state"}:
        raise _Abort("a policy state of the wrong shape")
    return state


# ---- custom policies: the scientist's classes, run in the child next to the function ---------


class _PolicyError(Exception):
    """A custom policy refused the run or failed: ``status`` is the job's failure, naming it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.status = {"ok": False, "error_kind": "policy", "error": _bounded(message)}


class _PolicyTimeout(BaseException):
    """A policy method ran past ``POLICY_SECONDS`` (raised by SIGALRM in the child)."""


class _Policies:
    """The job's custom policies (``RunSpec.policies``), rebuilt in the child from their
    source and JSON arguments. Only the child runs them: never the worker that checks."""

    def __init__(self, job: dict[str, Any]):
        self.spec = job["policies"]
        self.limits = job["limits"]
        seconds = self.spec.get("seconds")
        valid = isinstance(seconds, int | float) and 0 < seconds <= 3600
        self.seconds = float(seconds) if valid else POLICY_SECONDS
        from jupyter_syft.policies import PolicyContext

        self.context = PolicyContext(
            str(self.spec.get("code_id") or ""), str(job["func_name"]), private=True
        )
        self.input = self._build("input")
        self.output = self._build("output")

    def _build(self, which: str) -> Any:
        spec = self.spec.get(which)
        if not spec:
            return None
        import __future__

        import types

        from jupyter_syft import policies
        from jupyter_syft.errors import SyftException

        name = str(spec["class_name"])
        base = policies.CustomInputPolicy if which == "input" else policies.CustomOutputPolicy
        filename = f"<policy {name}>"
        source = str(spec["code"])
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        sy = types.SimpleNamespace(
            CustomInputPolicy=policies.CustomInputPolicy,
            CustomOutputPolicy=policies.CustomOutputPolicy,
            SyftException=SyftException,
        )
        namespace: dict[str, Any] = {
            "__builtins__": builtins,
            "__name__": "__syft_policy__",
            "sy": sy,
            "syft": sy,
            "CustomInputPolicy": policies.CustomInputPolicy,
            "CustomOutputPolicy": policies.CustomOutputPolicy,
            "SyftException": SyftException,
        }
        import typing

        for hint in ("Any", "Callable", "ClassVar", "Dict", "List", "Optional", "Set", "Tuple"):
            namespace[hint] = getattr(typing, hint)
        namespace["Type"] = type

        def define() -> Any:
            # annotations stay unevaluated, as PySyft's `from __future__ import annotations`
            flags = __future__.annotations.compiler_flag
            code = compile(source, filename, "exec", flags=flags, dont_inherit=True)
            exec(code, namespace)  # noqa: S102 -- the child runs user code: see _define
            cls = namespace.get(name)
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise TypeError(f"the source does not define a subclass {name} of {base.__name__}")
            obj = cls(**dict(spec.get("init_kwargs") or {}))
            if which == "input":
                obj.__dict__["_bound_inputs"] = dict(spec.get("inputs") or {})
            state = self.spec.get("state")
            if which == "output" and isinstance(state, dict):
                obj.state = state.get("state")
            return obj

        return self._guard(name, "class definition and __init__", filename, define)

    def _guard(self, name: str, what: str, filename: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` under the policy's time limit; any failure a ``_PolicyError`` naming it."""

        def expire(signum: int, frame: Any) -> None:
            raise _PolicyTimeout

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            return fn()
        except _PolicyError:
            raise
        except _PolicyTimeout:
            raise _PolicyError(
                f"The policy {name}: its {what} took longer than {self.seconds:g} seconds, "
                "the limit for a policy's method. Make it cheaper (a policy decides; the "
                "function computes)."
            ) from None
        except BaseException as exc:
            error = _user_error(exc, filename, self.limits)
            if error["error_kind"] == "memory":
                raise _PolicyError(f"The policy {name} ran out of memory in its {what}.") from None
            raise _PolicyError(
                f"The policy {name} failed in its {what}: {error['error']}"
            ) from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _name(self, policy: Any) -> tuple[str, str]:
        name = type(policy).__name__
        return name, f"<policy {name}>"

    def before(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The input policy's is_valid and filter_kwargs, then the output policy's is_valid:
        a falsy answer refuses the run, with the policy's name."""
        ctx = self.context
        if self.input is not None:
            policy = self.input
            name, filename = self._name(policy)
            ok = self._guard(name, "is_valid", filename, lambda: policy.is_valid(ctx, dict(kwargs)))
            if not ok:
                raise _PolicyError(
                    f"The input policy {name} refused this run: its is_valid(context, "
                    f"usr_input_kwargs) returned {_short(ok)}."
                )
            filtered = self._guard(
                name, "filter_kwargs", filename, lambda: policy.filter_kwargs(dict(kwargs), ctx)
            )
            if not isinstance(filtered, dict) or not all(isinstance(k, str) for k in filtered):
                raise _PolicyError(
                    f"The input policy {name}: filter_kwargs must return a dict of the "
                    f"function's arguments by name, not {type(filtered).__name__}."
                )
            kwargs = filtered
        if self.output is not None:
            policy = self.output
            name, filename = self._name(policy)
            ok = self._guard(name, "is_valid", filename, lambda: policy.is_valid(ctx))
            if not ok:
                raise _PolicyError(
                    f"The output policy {name} allows no more runs: its is_valid(context) "
                    f"returned {_short(ok)}. To run the code again, submit it in a new request."
                )
        return kwargs

    def after(self, value: Any) -> tuple[Any, bytes] | None:
        """The output policy's apply_to_output (its return value is the result), and its new
        state as JSON, checked here: a state that is not JSON values fails the run."""
        if self.output is None:
            return None
        policy, ctx = self.output, self.context
        name, filename = self._name(policy)
        out = self._guard(
            name,
            "apply_to_output",
            filename,
            lambda: policy.apply_to_output(ctx, value, update_policy=True),
        )
        from jupyter_syft.errors import SyftException
        from jupyter_syft.policies import MAX_POLICY_JSON, _require_json

        state = getattr(policy, "state", None)
        try:
            _require_json(state, f"The output policy {name}: self.state", "", 0)
        except SyftException as exc:
            raise _PolicyError(f"{exc} The Datasite keeps it between runs as JSON.") from None
        except RecursionError:
            raise _PolicyError(
                f"The output policy {name}: self.state is nested too deeply."
            ) from None
        try:
            text = json.dumps({"state": state}, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise _PolicyError(
                f"The output policy {name}: self.state must be JSON values (str, int, float, "
                f"bool, None, lists and dicts with str keys), so that the Datasite can keep it "
                f"between runs: {exc}."
            ) from None
        if len(text) > MAX_POLICY_JSON:
            raise _PolicyError(
                f"The output policy {name}: self.state is {len(text):,} characters as JSON, "
                f"more than {MAX_POLICY_JSON:,}."
            )
        return out, text.encode()


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


def _child_failure(status: dict[str, Any]) -> dict[str, Any]:
    """The child's own failure (a user error, memory, a bad result), as sent: only its kind
    and text are kept, and a kind it may not report is an internal failure."""
    kind = status.get("error_kind")
    error = status.get("error")
    error = error if isinstance(error, str) and error else "The job failed."
    if kind in ("user_error", "memory", "bad_result", "policy"):
        return {"ok": False, "error_kind": kind, "error": _bounded(error)}
    detail = status.get("detail")
    return _failure("internal", error, detail if isinstance(detail, str) else "")


def _end_like_the_child(child: _Child) -> NoReturn:
    """The child ended without a status: end this process the same way (the same signal, or
    the same exit status), so the runner names it as it would for one process."""
    code = child.wait()
    _flush()
    if os.WIFSIGNALED(code):
        sig = os.WTERMSIG(code)
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler
            signal.signal(sig, signal.SIG_DFL)
        with contextlib.suppress(OSError, ValueError):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        with contextlib.suppress(OSError):
            os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(code) if os.WIFEXITED(code) else 1)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    for arg in args[1:]:
        if arg.startswith("--nice="):  # a worker for a background job: yield the CPU
            with contextlib.suppress(OSError, ValueError):
                os.nice(int(arg.removeprefix("--nice=")))
    harden()
    preload()
    serve(sock)


def serve(sock: socket.socket) -> NoReturn:
    """Report READY, run the one job that arrives, report DONE and exit (also the loop of a
    worker forked by the template, ``template.py``)."""
    protocol.send_json(sock, protocol.READY, {"pid": os.getpid()})
    try:
        kind, payload, fds = protocol.recv_frame(sock, max_fds=protocol.MAX_FDS + 2)
    except (OSError, protocol.ProtocolError):
        os._exit(0)  # the runner went away before giving us a job
    if kind != protocol.JOB:
        os._exit(2)
    try:
        protocol.send_frame(sock, protocol.TAKEN)
    except OSError:
        os._exit(0)  # the runner went away (or stopped the job) before it started
    try:
        status = _serve(sock, json.loads(payload), fds)
    except BaseException as exc:  # e.g. SystemExit from user code run while encoding
        status = _failure(
            "internal", "The worker failed.", "".join(traceback.format_exception(exc))
        )
    _flush()
    with contextlib.suppress(OSError):
        protocol.send_json(sock, protocol.DONE, status)
    # Skip atexit handlers and the wait for non-daemon threads: both could be user code.
    os._exit(0)


if __name__ == "__main__":
    main()
