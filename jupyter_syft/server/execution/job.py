"""Running one job on one worker: hand-off, reading what comes back, naming what went wrong.

The worker gets read-only descriptors of its inputs and the write ends of two fresh pipes
for stdout and stderr. Its result comes back over the control socket and is written here,
by the server, into a file no other process holds open: a process the job left behind
cannot change a result after it was delivered. The worker is killed when the job ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import stat
import time
from pathlib import Path
from typing import Any

from ... import serde
from . import protocol
from .pool import Worker
from .sandbox import Launcher
from .spec import (
    BAD_RESULT,
    CPU_TIME,
    ERROR_KINDS,
    INTERNAL,
    KILLED,
    TIMEOUT,
    USER_ERROR,
    RunResult,
    RunSpec,
)

log = logging.getLogger("jupyter_syft.server")

OUTPUT_LIMIT = 1 << 20  # bytes of stdout and of stderr kept
ERROR_LIMIT = 256 << 10  # characters of error text accepted from a worker
_WORKER_KINDS = ERROR_KINDS - {TIMEOUT, CPU_TIME, KILLED}  # what a worker may report itself


class WorkerGone(Exception):
    """The worker died before it could take the job (the caller may try another one)."""


class _Capture:
    """Keeps the first OUTPUT_LIMIT bytes of a stream, counts the rest."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = OUTPUT_LIMIT - len(self.data)
        self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - room)

    def text(self) -> str:
        text = self.data.decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[... {self.dropped:,} more bytes not kept: output is limited to 1 MiB]"
        return text


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open_inputs(inputs: dict[str, Path]) -> list[int]:
    fds: list[int] = []
    try:
        for name, path in inputs.items():
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            fds.append(fd)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"input {name!r} is not a regular file")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds


class Job:
    """One RunSpec on one worker; ``run`` always ends with the worker killed."""

    def __init__(self, worker: Worker, run_spec: RunSpec, launcher: Launcher, result_base: Path):
        self.worker = worker
        self.spec = run_spec
        self.launcher = launcher
        self.partial = result_base.with_suffix(".partial")
        self.final = result_base.with_suffix(".jsyf")
        self.out = _Capture()
        self.err = _Capture()
        self.started = time.monotonic()
        self._frames = protocol.FrameBuffer()
        self._checker = serde.StreamChecker()
        self._received = 0
        self._result_fd = -1
        self._status: dict[str, Any] | None = None
        self._failure: tuple[str, str] | None = None
        self._taken = False  # the worker said TAKEN: from then on, the job's code may run

    def result(
        self, ok: bool, kind: str | None, error: str | None, report: dict[str, Any] | None = None
    ) -> RunResult:
        return RunResult(
            ok=ok,
            result_file=self.final if ok else None,
            error=error,
            error_kind=kind,
            stdout=self.out.text(),
            stderr=self.err.text(),
            duration_s=time.monotonic() - self.started,
            sandbox=self.launcher.mode,
            report=report,
        )

    def run(self) -> RunResult:
        try:
            return self._run()
        finally:
            self.worker.discard()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.partial)

    def _run(self) -> RunResult:
        limits = self.spec.limits
        try:
            input_fds = _open_inputs(self.spec.inputs)
        except OSError as exc:
            log.error("Job %s: cannot open its inputs: %s", self.spec.label, exc)
            return self.result(False, INTERNAL, "The server could not open the inputs.")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        job = {
            "source": self.spec.source,
            "func_name": self.spec.func_name,
            "inputs": list(self.spec.inputs),
            "nested": list(self.spec.nested),
            "limits": {
                "cpu_seconds": limits.cpu_seconds,
                "memory_mb": limits.memory_mb,
                "max_processes": limits.max_processes,
                "max_result_bytes": limits.max_result_bytes,
            },
        }
        if self.spec.rules is not None:
            job["rules"] = self.spec.rules
        if self.spec.policies is not None:
            job["policies"] = self.spec.policies
        try:
            protocol.send_json(self.worker.sock, protocol.JOB, job, [out_w, err_w, *input_fds])
        except OSError as exc:
            for fd in (out_r, err_r):
                os.close(fd)
            raise WorkerGone(str(exc)) from None
        finally:
            for fd in (out_w, err_w, *input_fds):
                os.close(fd)
        self.started = time.monotonic()
        try:
            return self._collect(out_r, err_r)
        finally:
            os.close(out_r)
            os.close(err_r)

    def _collect(self, out_r: int, err_r: int) -> RunResult:
        limits = self.spec.limits
        deadline = self.started + limits.wall_seconds
        self.worker.sock.setblocking(False)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        self._result_fd = os.open(self.partial, flags, 0o600)
        with contextlib.ExitStack() as stack:
            stack.callback(os.close, self._result_fd)
            sel = stack.enter_context(selectors.DefaultSelector())
            sel.register(self.worker.sock, selectors.EVENT_READ, None)
            sel.register(out_r, selectors.EVENT_READ, self.out)
            sel.register(err_r, selectors.EVENT_READ, self.err)
            open_socket = True
            while open_socket and self._status is None and self._failure is None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    self._failure = (
                        TIMEOUT,
                        f"The function did not finish within its time limit of "
                        f"{limits.wall_seconds:g} s and was stopped.",
                    )
                    break
                # Wake up now and then: without a sandbox, a child the job forked may hold
                # the socket open after the worker died.
                heard = False
                for key, _ in sel.select(min(timeout, 0.25)):
                    if key.data is None:
                        heard = True
                        open_socket = self._read_socket()
                    elif chunk := os.read(key.fd, 65536):
                        key.data.add(chunk)
                    else:
                        sel.unregister(key.fd)
                if not heard and self.worker.exited():
                    self._read_socket()  # whatever it sent before it ended
                    break
            if self._status is None and self._failure is None:
                self._failure = self._death()
                if not self._taken and not self.worker.cancelled:
                    # It died before the job's code ran: safe to give the job to another.
                    raise WorkerGone(f"ended before taking the job: {self._failure[1]}")
            # Done: a worker that reported exits by itself; otherwise stop it now.
            self.worker.discard(stop=self._status is None)
            self._drain(out_r, self.out)
            self._drain(err_r, self.err)
        if self._failure is not None:
            return self.result(False, *self._failure)
        assert self._status is not None
        return self._finish(self._status)

    def _read_socket(self) -> bool:
        """Handle everything the worker has sent so far; False once the socket is closed."""
        while self._status is None and self._failure is None:
            try:
                data = self.worker.sock.recv(1 << 20)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            try:
                frames = self._frames.feed(data)
            except protocol.ProtocolError as exc:
                self._failure = (INTERNAL, f"The worker broke the protocol ({exc}).")
                return True
            for kind, payload in frames:
                self._handle(kind, payload)
                if self._status is not None or self._failure is not None:
                    break
        return True

    def _handle(self, kind: bytes, payload: bytes) -> None:
        if kind == protocol.TAKEN:
            self._taken = True
        elif kind == protocol.DATA:
            limit = self.spec.limits.max_result_bytes
            self._received += len(payload)
            if self._received > limit:
                self._failure = (BAD_RESULT, _too_big(limit))
                return
            try:
                self._checker.feed(payload)
            except serde.SerdeError as exc:
                self._failure = (BAD_RESULT, f"The result is not a valid value: {exc}")
                return
            _write_all(self._result_fd, payload)
        elif kind == protocol.CALL:
            self._answer(payload)
        elif kind == protocol.DONE:
            try:
                self._status = protocol.parse_json(payload)
            except protocol.ProtocolError as exc:
                self._failure = (INTERNAL, f"The worker sent a bad status ({exc}).")
        else:
            self._failure = (INTERNAL, f"The worker sent an unexpected {kind!r} frame.")

    def _answer(self, payload: bytes) -> None:
        """A call from the running job (a nested job, progress): ask the spec's handler."""
        reply: tuple[dict[str, Any], bytes]
        try:
            header, data = protocol.unpack_call(payload)
        except protocol.ProtocolError as exc:
            self._failure = (INTERNAL, f"The worker sent a bad call ({exc}).")
            return
        if self.spec.on_call is None:
            reply = ({"ok": False, "error": "Nested jobs are not available here."}, b"")
        else:
            try:
                reply = self.spec.on_call(header, data)
            except Exception:
                log.exception("Job %s: a nested call failed", self.spec.label)
                reply = ({"ok": False, "error": "The Datasite could not answer this call."}, b"")
        self.worker.sock.setblocking(True)
        try:
            protocol.send_frame(self.worker.sock, protocol.REPLY, protocol.pack_call(*reply))
        except OSError:
            pass  # the worker is gone; the read loop notices
        finally:
            self.worker.sock.setblocking(False)

    def _finish(self, status: dict[str, Any]) -> RunResult:
        if status.get("ok") is True:
            try:
                self._checker.finish()
            except serde.SerdeError as exc:
                return self.result(False, BAD_RESULT, f"The result is incomplete: {exc}")
            os.rename(self.partial, self.final)
            report = status.get("report")
            result = self.result(True, None, None, report if isinstance(report, dict) else None)
            state = status.get("policy_state")
            result.policy_state = state if isinstance(state, dict) else None
            return result
        kind = status.get("error_kind")
        kind = kind if kind in _WORKER_KINDS else INTERNAL
        error = status.get("error")
        error = error[:ERROR_LIMIT] if isinstance(error, str) and error else "The job failed."
        if kind == INTERNAL:
            detail = status.get("detail")
            log.error("Job %s: worker failure: %s %s", self.spec.label, error, detail or "")
        return self.result(False, kind, error)

    def _death(self) -> tuple[str, str]:
        """Why the worker ended without reporting. It closed its socket, so it is exiting:
        let it, to see its real exit status, before killing it."""
        code = self.worker.kill(grace=2.0)
        if self.worker.cancelled:
            return KILLED, "The job was stopped with job.kill()."
        if code is None:
            return KILLED, "The worker process could not be stopped."
        if getattr(self.worker.proc, "lost", False):  # forked: its sandbox ended from outside
            return (
                KILLED,
                "The job's sandbox was stopped from outside before the job finished (e.g. "
                "the worker template was killed or the server is shutting down). Run it again.",
            )
        sig = self.launcher.death_signal(code)
        if sig == signal.SIGXCPU:
            return (
                CPU_TIME,
                f"The function used more than its CPU time limit of "
                f"{self.spec.limits.cpu_seconds:g} s and was stopped.",
            )
        if sig is not None:
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            return (
                KILLED,
                f"The worker process was killed ({name}), usually because it ran out of memory "
                "or CPU time.",
            )
        return USER_ERROR, f"The function ended its worker process (exit status {code})."

    @staticmethod
    def _drain(fd: int, capture: _Capture) -> None:
        """What is still in a pipe, without waiting for writers (a left-behind child may
        hold it open)."""
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(fd, 65536):
                capture.add(chunk)


def _too_big(limit: int) -> str:
    return (
        f"The function's result is larger than the limit of {limit:,} bytes. Return a "
        "smaller value (e.g. an aggregate)."
    )
