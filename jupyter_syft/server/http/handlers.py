"""One small class per endpoint; each one authorizes through a service and encodes the answer.

Each endpoint declares, per verb, its side of the contract (``contract = {verb: Op(...)}``):
the body model it takes (``self.body()`` validates it), the query, what it answers. The OpenAPI
document (``server/http/openapi.py``) is written from these declarations.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from ...wire import routes
from ...wire.contract import EVENT_STREAM, VALUE_MEDIA_TYPE, Op
from ...wire.enums import Decision, JobStatus
from ...wire.models import (
    ApproveBody,
    AuditCheckpoint,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    AuditVerifyQuery,
    BlobInfo,
    Code,
    CodeListQuery,
    CodeSubmit,
    Dataset,
    DatasetCreate,
    DatasetPreflight,
    DataSubject,
    DataSubjectAdded,
    DataSubjectCreate,
    DenyBody,
    DepositBody,
    Environment,
    EnvironmentApproveBody,
    EnvironmentCreate,
    EnvironmentRequest,
    EnvironmentRequestCreate,
    EnvironmentRequestQuery,
    EventsQuery,
    Execution,
    GuestSession,
    Job,
    JobQuery,
    JobWaitQuery,
    Justification,
    JustificationBody,
    LoginAnswer,
    LoginBody,
    Metadata,
    Notification,
    NotificationCount,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    NotificationQuery,
    NotificationsMark,
    NotificationsMarked,
    NotificationUpdate,
    Ok,
    Output,
    OutputQuery,
    Page,
    PageQuery,
    PasswordChange,
    Preview,
    Project,
    ProjectCreate,
    ProjectEvent,
    PushEvent,
    PushEvents,
    ReleaseBody,
    Request,
    RequestCreate,
    RequestListQuery,
    RowsQuery,
    RunInputs,
    Settings,
    SettingsUpdate,
    TimelineEntry,
    User,
    UserCreate,
    UserUpdate,
    ValueQuery,
    WithholdBody,
)
from ..services import limits
from ..services.actor import Actor
from ..services.errors import BadRequest, ServiceError
from ..services.paging import PageParams
from .base import DatasiteHandler, Endpoint, declared_length

OK = Ok(ok=True)


def _page(handler: Endpoint) -> PageParams:
    """A list route's ``limit``, ``cursor`` and ``order`` (checked in ``paging``)."""
    arg = handler.get_query_argument
    return PageParams.parse(arg("limit", None), arg("cursor", None), arg("order", None))


class MetadataHandler(Endpoint):
    public = True  # lets a client check what it is talking to before logging in
    contract = {
        "get": Op("What this Datasite is: its public settings and versions.", Metadata, public=True)
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.datasite.metadata))


class LoginHandler(Endpoint):
    contract = {"post": Op("Log in: a session token.", LoginAnswer, body=LoginBody, public=True)}

    async def post(self) -> None:
        body: LoginBody = self.body()
        result = await self.run(
            self.services.auth.login, body.email, body.password, self.request.remote_ip or ""
        )
        self.send_json(result)


class LogoutHandler(Endpoint):
    contract = {"post": Op("End this session (its token stops working).", Ok)}

    async def post(self) -> None:
        header = self.request.headers.get("Authorization", "")
        if header:
            await self.run(self.services.auth.logout, header.partition(" ")[2].strip())
        self.send_json(OK)


class RegisterHandler(Endpoint):
    contract = {
        "post": Op(
            "Sign up (when the Datasite allows it), or an owner registers someone.",
            User,
            body=UserCreate,
            status=201,
            public=True,
        )
    }

    async def post(self) -> None:
        user = await self.run(self.services.users.register, self.actor, self.body())
        self.send_json(user, status=201)


class UsersHandler(Endpoint):
    contract = {
        "get": Op("The accounts you may see (owners: all).", Page[User], query=PageQuery),
        "post": Op("Create an account (owners).", User, body=UserCreate, status=201),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.users.list, self.actor, _page(self)))

    async def post(self) -> None:
        user = await self.run(self.services.users.create, self.actor, self.body())
        self.send_json(user, status=201)


class MeHandler(Endpoint):
    contract = {"get": Op("Your own account (null without a session).", User | None)}
    defer_actor = True

    async def get(self) -> None:
        self.send_json(await self.read(self.services.users.me, self.actor))


class UserHandler(Endpoint):
    contract = {
        "get": Op("An account.", User),
        "patch": Op("Change an account.", User, body=UserUpdate),
        "delete": Op("Delete an account with no history (owners).", Ok),
    }

    async def get(self, user_id: str) -> None:
        self.send_json(await self.run(self.services.users.get, self.actor, user_id))

    async def patch(self, user_id: str) -> None:
        self.send_json(await self.run(self.services.users.update, self.actor, user_id, self.body()))

    async def delete(self, user_id: str) -> None:
        await self.run(self.services.users.delete, self.actor, user_id)
        self.send_json(OK)


class UserPasswordHandler(Endpoint):
    contract = {"post": Op("Set an account's password.", Ok, body=PasswordChange)}

    async def post(self, user_id: str) -> None:
        body: PasswordChange = self.body()
        await self.run(
            self.services.users.set_password,
            self.actor,
            user_id,
            body.new_password,
            body.current_password,
        )
        self.send_json(OK)


class SettingsHandler(Endpoint):
    contract = {
        "get": Op("The Datasite's settings (others than owners: the public ones).", Settings),
        "patch": Op("Change settings (owners).", Settings, body=SettingsUpdate),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.settings.get, self.actor))

    async def patch(self) -> None:
        self.send_json(await self.run(self.services.settings.update, self.actor, self.body()))


class DatasetsHandler(Endpoint):
    contract = {
        "get": Op("The datasets.", Page[Dataset], query=PageQuery),
        "post": Op(
            "Create a dataset of uploaded values (owners).", Dataset, body=DatasetCreate, status=201
        ),
    }
    defer_actor = True

    async def get(self) -> None:
        self.send_json(await self.read(self.services.datasets.list, self.actor, _page(self)))

    async def post(self) -> None:
        self.send_json(await self.run(self._create, self.actor), 201)

    def _create(self, actor: Actor) -> Dataset:
        # The body is read on the pool, after the caller is known (see defer_actor).
        return self.services.datasets.create(actor, self.body())


class DatasetPreflightHandler(Endpoint):
    contract = {
        "post": Op(
            "Check, before uploading, that a dataset of this name could be created.",
            Ok,
            body=DatasetPreflight,
        )
    }

    async def post(self) -> None:
        body: DatasetPreflight = self.body()
        await self.run(self.services.datasets.preflight, self.actor, body.name)
        self.send_json(OK)


class DatasetHandler(Endpoint):
    contract = {
        "get": Op("A dataset, by id or name.", Dataset),
        "delete": Op("Delete a dataset and the values only it used (owners).", Ok),
    }
    defer_actor = True

    async def get(self, key: str) -> None:
        self.send_json(await self.run(self.services.datasets.get, self.actor, key))

    async def delete(self, key: str) -> None:
        await self.run(self.services.datasets.delete, self.actor, key)
        self.send_json(OK)


class BlobUploadHandler(Endpoint):
    """Receives a value in chunks straight into the blob store; never holds it whole."""

    streams_body = True
    writer: Any = None
    contract = {
        "post": Op(
            "Upload a value (owners): the body is the value, in the value format.",
            BlobInfo,
            status=201,
        )
    }

    async def prepare(self) -> None:
        # Until the caller is known to be allowed to upload, a body is bounded like any other
        # refused one (Jupyter's server would otherwise read up to 512 MB of it).
        self.request.connection.set_max_body_size(limits.ANONYMOUS_JSON_BODY)  # type: ignore[union-attr]
        await super().prepare()  # type: ignore[misc]  # the host's prepare is async
        self.writer = await self.run(
            self.services.datasets.open_upload, self.actor, declared_length(self.request)
        )
        self.request.connection.set_max_body_size(self.writer.max_size)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.writer is None:  # None once refused: the rest is dropped
            return None
        self.writer.write(chunk)  # checked here; hashed and written on the writer's thread
        if not self.writer.backlogged:
            return None
        loop = asyncio.get_running_loop()
        room: asyncio.Future[None] = loop.create_future()
        self.writer.when_room(lambda: loop.call_soon_threadsafe(_resolve, room))
        return room  # tornado reads no more of the body until the writer has caught up

    async def post(self) -> None:
        info = await self.run(self.services.datasets.finish_upload, self.actor, self.writer)
        self.send_json(info, 201)

    def on_finish(self) -> None:
        if self.writer is not None:
            self.writer.abort()

    def on_connection_close(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class AssetValueHandler(Endpoint):
    """Streams an asset's mock or private value (if the caller may read it), or its first rows."""

    contract = {
        "get": Op(
            "An asset's mock or private value (or its first rows), in the value format.",
            query=ValueQuery,
            media_type=VALUE_MEDIA_TYPE,
        )
    }
    defer_actor = True

    async def get(self, asset_id: str, which: str) -> None:
        rows = self.get_query_argument("rows", None)
        if rows is not None:
            head = await self.run(
                self.services.datasets.preview, self.actor, asset_id, which, _rows(rows)
            )
            self.set_header("Content-Type", VALUE_MEDIA_TYPE)
            self.finish(head)
            return
        path, size = await self.read(self.services.datasets.open_value, self.actor, asset_id, which)
        await self.stream_file(path, size)


class AssetPreviewHandler(Endpoint):
    """The first rows of an asset's mock or private value as JSON, for the sidebar."""

    contract = {
        "get": Op("The first rows of an asset's mock or private value.", Preview, query=RowsQuery)
    }
    defer_actor = True

    async def get(self, asset_id: str, which: str) -> None:
        rows = _rows(self.get_query_argument("rows", "5"))
        self.send_json(
            await self.run(self.services.previews.asset, self.actor, asset_id, which, rows)
        )


def _rows(text: str) -> int:
    # str.isdigit() takes "²" and Arabic-Indic digits; a row count is plain ASCII digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise BadRequest(f"rows must be a whole number (e.g. rows=5), not {limits.clip(text)}.")
    return int(text)


class GuestSessionHandler(Endpoint):
    contract = {
        "post": Op(
            "Start a guest session (when the Datasite allows guests).",
            GuestSession,
            status=201,
            public=True,
        )
    }

    async def post(self) -> None:
        address = self.request.remote_ip or ""
        self.send_json(await self.run(self.services.auth.guest_session, address), 201)


class CodeListHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {
        "get": Op("The code you may see, by submit time.", Page[Code], query=CodeListQuery),
        "post": Op("Submit a Syft function.", Code, body=CodeSubmit, status=201),
    }

    async def get(self) -> None:
        name = self.get_query_argument("name", None)
        self.send_json(await self.run(self.services.code.list, self.actor, _page(self), name))

    async def post(self) -> None:
        self.send_json(await self.run(self.services.code.submit, self.actor, self.body()), 201)


class CodeHandler(Endpoint):
    contract = {"get": Op("A submitted function.", Code)}
    defer_actor = True

    async def get(self, code_id: str) -> None:
        self.send_json(await self.run(self.services.code.get, self.actor, code_id))


class CodeRunHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {
        "post": Op(
            "Run the code (on private data if approved, else on mocks if allowed) and wait.",
            Execution,
            body=RunInputs,
        )
    }

    async def post(self, code_id: str) -> None:
        body: RunInputs = self.body()
        self.send_json(
            await self.run(self.services.code.run, self.actor, code_id, body.inputs or {})
        )


class CodeByNameRunHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {
        "post": Op(
            "Run the version of a function the Datasite picks (latest approved, else latest).",
            Execution,
            body=RunInputs,
        )
    }

    async def post(self, name: str) -> None:
        body: RunInputs = self.body()
        self.send_json(
            await self.run(self.services.code.run_by_name, self.actor, name, body.inputs or {})
        )


class CodeByNameJobsHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {
        "post": Op(
            "Run the version of a function the Datasite picks, as a background job.",
            Job,
            body=RunInputs,
            status=201,
        )
    }

    async def post(self, name: str) -> None:
        body: RunInputs = self.body()
        self.send_json(
            await self.run(self.services.jobs.submit_by_name, self.actor, name, body.inputs or {}),
            201,
        )


class CodeRunOnMocksHandler(Endpoint):
    contract = {
        "post": Op("Run the code on the mocks of its policy's assets; counts no run.", Execution)
    }
    defer_actor = True

    async def post(self, code_id: str) -> None:
        self.send_json(await self.run(self.services.code.run_on_mocks, self.actor, code_id))


class CodeExecutionsHandler(Endpoint):
    contract = {"get": Op("The code's runs.", Page[Execution], query=PageQuery)}
    defer_actor = True

    async def get(self, code_id: str) -> None:
        self.send_json(
            await self.run(self.services.code.executions, self.actor, code_id, _page(self))
        )


class CodeJobsHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {"post": Op("Run the code as a background job.", Job, body=RunInputs, status=201)}

    async def post(self, code_id: str) -> None:
        body: RunInputs = self.body()
        self.send_json(
            await self.run(self.services.jobs.submit, self.actor, code_id, body.inputs or {}), 201
        )


class JobsHandler(Endpoint):
    contract = {
        "get": Op(
            "The jobs you may see (owners: everyone's), active (queued or running), finished "
            "or all, paged.",
            Page[Job],
            query=JobQuery,
        )
    }
    defer_actor = True

    async def get(self) -> None:
        state = self.get_query_argument("state", None)
        self.send_json(await self.run(self.services.jobs.list, self.actor, _page(self), state))


class JobHandler(Endpoint):
    contract = {
        "get": Op(
            "A job and its progress; with ``wait``, once it has ended or the wait is over.",
            Job,
            query=JobWaitQuery,
        )
    }
    defer_actor = True

    async def get(self, job_id: str) -> None:
        wait = _wait_seconds(self.get_query_argument("wait", None))
        waits = self.datasite.job_waits
        deadline = IOLoop.current().time() + wait
        while True:
            # Watched before it is read: an end between the read and the wait wakes it.
            changed = waits.watch(job_id) if wait else None
            try:
                job = await self.run(self.services.jobs.get, self.actor, job_id)
                remaining = deadline - IOLoop.current().time()
                if changed is None or job.status in ENDED_JOBS or remaining <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed, remaining)
            finally:
                if changed is not None:
                    waits.forget(job_id, changed)
        self.send_json(job)


ENDED_JOBS = (JobStatus.COMPLETED, JobStatus.ERRORED, JobStatus.INTERRUPTED)
MAX_WAIT_SECONDS = 30.0


def _wait_seconds(text: str | None) -> float:
    if text is None or text == "":
        return 0.0
    try:
        seconds = float(text) if len(text) <= 12 and text.isascii() else math.nan
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_WAIT_SECONDS:  # NaN fails this too
        raise BadRequest(
            f"wait is a number of seconds from 0 to {MAX_WAIT_SECONDS:g} (e.g. wait=10), "
            f"not {limits.clip(text)}."
        )
    return seconds


class JobKillHandler(Endpoint):
    contract = {"post": Op("Stop a job (or cancel it before it starts).", Job)}
    defer_actor = True

    async def post(self, job_id: str) -> None:
        self.send_json(await self.run(self.services.jobs.kill, self.actor, job_id))


class ExecutionResultHandler(Endpoint):
    contract = {"get": Op("A run's result, in the value format.", media_type=VALUE_MEDIA_TYPE)}
    defer_actor = True

    async def get(self, execution_id: str) -> None:
        path, size = await self.run(self.services.code.open_result, self.actor, execution_id)
        await self.stream_file(path, size)


class ExecutionPreviewHandler(Endpoint):
    contract = {"get": Op("The first rows of a run's result.", Preview)}
    defer_actor = True

    async def get(self, execution_id: str) -> None:
        self.send_json(await self.run(self.services.previews.result, self.actor, execution_id))


class OutputsHandler(Endpoint):
    contract = {
        "get": Op(
            "Results of runs on private data, for output review (owners); by state, paged.",
            Page[Output],
            query=OutputQuery,
        )
    }
    defer_actor = True

    async def get(self) -> None:
        state = self.get_query_argument("state", None)
        self.send_json(await self.run(self.services.outputs.list, self.actor, state, _page(self)))


class OutputHandler(Endpoint):
    contract = {"get": Op("A run's result as an output under review (owners).", Output)}
    defer_actor = True

    async def get(self, execution_id: str) -> None:
        self.send_json(await self.run(self.services.outputs.get, self.actor, execution_id))


class OutputReleaseHandler(Endpoint):
    contract = {
        "post": Op(
            "Release a held result to its requester (owners; not your own request).",
            Output,
            body=ReleaseBody,
        )
    }

    async def post(self, execution_id: str) -> None:
        body: ReleaseBody = self.body()
        self.send_json(
            await self.run(
                self.services.outputs.release,
                self.actor,
                execution_id,
                body.comment or "",
                body.suppress,
            )
        )


class OutputWithholdHandler(Endpoint):
    contract = {
        "post": Op(
            "Withhold a held result, saying why (owners; not your own request).",
            Output,
            body=WithholdBody,
        )
    }

    async def post(self, execution_id: str) -> None:
        body: WithholdBody = self.body()
        self.send_json(
            await self.run(self.services.outputs.withhold, self.actor, execution_id, body.reason)
        )


class OutputOriginalHandler(Endpoint):
    contract = {
        "get": Op(
            "An output's value as computed, before suppression (owners), in the value format.",
            media_type=VALUE_MEDIA_TYPE,
        )
    }
    defer_actor = True

    async def get(self, execution_id: str) -> None:
        path, size = await self.run(self.services.outputs.open_original, self.actor, execution_id)
        await self.stream_file(path, size)


class OutputOriginalPreviewHandler(Endpoint):
    contract = {
        "get": Op(
            "The first rows of an output's value as computed, before suppression (owners).",
            Preview,
            query=RowsQuery,
        )
    }
    defer_actor = True

    async def get(self, execution_id: str) -> None:
        rows = _rows(self.get_query_argument("rows", "20"))
        self.send_json(
            await self.run(self.services.outputs.original_preview, self.actor, execution_id, rows)
        )


class OutputJustificationHandler(Endpoint):
    contract = {
        "post": Op(
            "Say why a held output of yours should be released (its requester only; a new "
            "justification replaces the last).",
            Justification,
            body=JustificationBody,
        )
    }

    async def post(self, execution_id: str) -> None:
        body: JustificationBody = self.body()
        self.send_json(
            await self.run(self.services.outputs.justify, self.actor, execution_id, body.text)
        )


class RequestsHandler(Endpoint):
    json_limit = limits.VALUE_JSON_BODY  # values sent inline (arguments, constants)
    contract = {
        "get": Op("The code requests you may see.", Page[Request], query=RequestListQuery),
        "post": Op(
            "Ask to run code on private data (submitting it if new).",
            Request,
            body=RequestCreate,
            status=201,
        ),
    }
    defer_actor = True

    async def get(self) -> None:
        arg = self.get_query_argument
        self.send_json(
            await self.run(
                self.services.requests.list,
                self.actor,
                arg("status", None),
                arg("project_id", None),
                _page(self),
                q=arg("q", None),
            )
        )

    async def post(self) -> None:
        self.send_json(await self.run(self._create, self.actor), 201)

    def _create(self, actor: Actor) -> Request:
        # The body is read on the pool, after the caller is known (see defer_actor).
        return self.services.requests.create(actor, self.body())


class RequestHandler(Endpoint):
    contract = {"get": Op("A code request.", Request)}
    defer_actor = True

    async def get(self, request_id: str) -> None:
        self.send_json(await self.read(self.services.requests.get, self.actor, request_id))


class RequestApproveHandler(Endpoint):
    contract = {"post": Op("Approve a request (owners).", Request, body=ApproveBody)}
    defer_actor = True

    async def post(self, request_id: str) -> None:
        self.send_json(await self.run(self._approve, self.actor, request_id))

    def _approve(self, actor: Actor, request_id: str) -> Request:
        # The body is read on the pool, after the caller is known (see defer_actor).
        body: ApproveBody = self.body()
        return self.services.requests.approve(
            actor, request_id, body.approve_nested, body.nested_code_ids
        )


class RequestDenyHandler(Endpoint):
    contract = {"post": Op("Deny a request, saying why (owners).", Request, body=DenyBody)}

    async def post(self, request_id: str) -> None:
        body: DenyBody = self.body()
        self.send_json(
            await self.run(self.services.requests.deny, self.actor, request_id, body.reason)
        )


class RequestTimelineHandler(Endpoint):
    contract = {
        "get": Op(
            "A request's history from the audit log, oldest first (owners; the requester "
            "without owners' details).",
            Page[TimelineEntry],
            query=PageQuery,
        )
    }
    defer_actor = True

    async def get(self, request_id: str) -> None:
        self.send_json(
            await self.run(self.services.requests.timeline, self.actor, request_id, _page(self))
        )


class RequestDepositHandler(Endpoint):
    contract = {
        "post": Op("Approve a request with your own result (owners).", Request, body=DepositBody)
    }

    async def post(self, request_id: str) -> None:
        body: DepositBody = self.body()
        result = await self.run(
            self.services.requests.deposit,
            self.actor,
            request_id,
            body.blob_id,
            body.stdout or "",
            body.stderr or "",
        )
        self.send_json(result)


class DataSubjectsHandler(Endpoint):
    contract = {
        "get": Op(
            "The data subjects registered on this Datasite (as its datasets: everyone who may "
            "browse them).",
            Page[DataSubject],
            query=PageQuery,
        ),
        "post": Op(
            "Register a data subject and its members (owners).",
            DataSubjectAdded,
            body=DataSubjectCreate,
            status=201,
        ),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.data_subjects.list, self.actor, _page(self)))

    async def post(self) -> None:
        answer = await self.run(self.services.data_subjects.add, self.actor, self.body())
        self.send_json(answer, 201)


class EnvironmentsHandler(Endpoint):
    contract = {
        "get": Op(
            "The environments user code can run in (everyone logged in; without build logs).",
            Page[Environment],
            query=PageQuery,
        ),
        "post": Op(
            "Define an environment and start building it (owners); its status says when it "
            "is ready.",
            Environment,
            body=EnvironmentCreate,
            status=201,
        ),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.environments.list, self.actor, _page(self)))

    async def post(self) -> None:
        answer = await self.run(self.services.environments.create, self.actor, self.body())
        self.send_json(answer, 201)


class EnvironmentHandler(Endpoint):
    contract = {
        "get": Op("An environment; owners also get its build log.", Environment),
        "delete": Op("Delete an environment no pending or approved code uses (owners).", Ok),
    }
    defer_actor = True

    async def get(self, environment: str) -> None:
        self.send_json(await self.run(self.services.environments.get, self.actor, environment))

    async def delete(self, environment: str) -> None:
        answer = await self.run(self.services.environments.delete, self.actor, environment)
        self.send_json(answer)


class EnvironmentRebuildHandler(Endpoint):
    contract = {
        "post": Op(
            "Build an environment again (owners); a build going on is joined, not repeated.",
            Environment,
        )
    }
    defer_actor = True

    async def post(self, environment: str) -> None:
        answer = await self.run(self.services.environments.rebuild, self.actor, environment)
        self.send_json(answer)


class EnvironmentRequestsHandler(Endpoint):
    contract = {
        "get": Op(
            "Environment requests: owners see all, scientists their own.",
            Page[EnvironmentRequest],
            query=EnvironmentRequestQuery,
        ),
        "post": Op(
            "Ask the owners for an environment, or packages added to one.",
            EnvironmentRequest,
            body=EnvironmentRequestCreate,
            status=201,
        ),
    }

    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        decision = None
        if status:
            try:
                decision = Decision(status)
            except ValueError:
                raise BadRequest("status is pending, approved or rejected.") from None
        self.send_json(
            await self.run(self.services.environments.requests, self.actor, _page(self), decision)
        )

    async def post(self) -> None:
        answer = await self.run(self.services.environments.request, self.actor, self.body())
        self.send_json(answer, 201)


class EnvironmentRequestApproveHandler(Endpoint):
    contract = {
        "post": Op(
            "Approve an environment request (owners): the environment is built.",
            EnvironmentRequest,
            body=EnvironmentApproveBody,
        )
    }

    async def post(self, environment_request_id: str) -> None:
        self.send_json(
            await self.run(
                self.services.environments.approve,
                self.actor,
                environment_request_id,
                self.body(),
            )
        )


class EnvironmentRequestDenyHandler(Endpoint):
    contract = {
        "post": Op(
            "Deny an environment request, saying why (owners).", EnvironmentRequest, body=DenyBody
        )
    }

    async def post(self, environment_request_id: str) -> None:
        body: DenyBody = self.body()
        self.send_json(
            await self.run(
                self.services.environments.deny, self.actor, environment_request_id, body.reason
            )
        )


class ProjectsHandler(Endpoint):
    contract = {
        "get": Op("The projects you may see.", Page[Project], query=PageQuery),
        "post": Op("Create a project.", Project, body=ProjectCreate, status=201),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.projects.list, self.actor, _page(self)))

    async def post(self) -> None:
        self.send_json(await self.run(self.services.projects.create, self.actor, self.body()), 201)


class ProjectHandler(Endpoint):
    contract = {"get": Op("A project, by id or name.", Project)}
    defer_actor = True

    async def get(self, key: str) -> None:
        self.send_json(await self.run(self.services.projects.get, self.actor, key))


class ProjectEventsHandler(Endpoint):
    contract = {
        "get": Op("A project's history, oldest first.", Page[ProjectEvent], query=PageQuery)
    }
    defer_actor = True

    async def get(self, key: str) -> None:
        self.send_json(await self.run(self.services.projects.events, self.actor, key, _page(self)))


class AuditEventsHandler(Endpoint):
    contract = {
        "get": Op(
            "The audit log (owners): events newest first, by who acted, object and action "
            "prefix, paged.",
            Page[AuditEvent],
            query=AuditQuery,
        )
    }
    defer_actor = True

    async def get(self) -> None:
        arg = self.get_query_argument
        page = PageParams.parse(arg("limit", None), arg("cursor", None), arg("order", "newest"))
        self.send_json(
            await self.run(
                self.services.audit.list_events,
                self.actor,
                user=arg("user", None),
                object_id=arg("object_id", None),
                object_type=arg("object_type", None),
                action=arg("action", None),
                since_seq=arg("since_seq", None),
                page=page,
            )
        )


class AuditVerifyHandler(Endpoint):
    contract = {
        "get": Op(
            "Check the audit log's hash chain on the server (owners); with since_seq and "
            "since_hash, that it still extends that checkpoint.",
            AuditVerification,
            query=AuditVerifyQuery,
        )
    }
    defer_actor = True

    async def get(self) -> None:
        arg = self.get_query_argument
        self.send_json(
            await self.run(
                self.services.audit.verification,
                self.actor,
                arg("since_seq", None),
                arg("since_hash", None),
            )
        )


class AuditCheckpointHandler(Endpoint):
    contract = {
        "get": Op(
            "The audit log's head (owners): keep it, verify against it later.", AuditCheckpoint
        )
    }
    defer_actor = True

    async def get(self) -> None:
        self.send_json(await self.run(self.services.audit.checkpoint, self.actor))


class EventsHandler(Endpoint):
    contract = {
        "get": Op(
            "The push channel: what changed that the caller may see (a topic and an object id, "
            "never a value). With `Accept: text/event-stream`, a stream of server-sent events "
            "(resume it with the last `id:` as `Last-Event-ID`; `event: reset` means reload "
            "everything; a comment line keeps it alive; 429 beyond the setting "
            "push_connections_per_user); otherwise, as JSON, the events after `last_event_id` "
            "(what a client polls when it cannot stream).",
            PushEvents,
            query=EventsQuery,
            stream=PushEvent,
        )
    }
    _subscription: Any = None

    async def get(self) -> None:
        hub = self.datasite.push
        last = self.request.headers.get("Last-Event-ID")
        if last is None:
            last = self.get_query_argument("last_event_id", None)
        if last is not None and len(last) > limits.NAME:
            raise BadRequest("Last-Event-ID is too long to be an id this Datasite sent.")
        if EVENT_STREAM not in self.request.headers.get("Accept", ""):
            limit = _whole(self.get_query_argument("limit", "500"), "limit", 1, 1000)
            catchup = await self.run(hub.catch_up, self.actor, last, limit)
            events = [hub.view(event) for event in catchup.events]
            answer = PushEvents(last_event_id=catchup.last_id, reset=catchup.reset, events=events)
            self.send_json(answer)
            return
        cap = await self.run(self.services.settings.value, "push_connections_per_user")
        loop = asyncio.get_running_loop()
        subscription, catchup = hub.subscribe(self.actor, last, loop, cap)
        self._subscription = subscription
        try:
            await self._stream(hub, subscription, catchup, loop)
        except StreamClosedError:
            pass  # the reader went away
        finally:
            hub.unsubscribe(subscription)
        if not self._finished:
            with contextlib.suppress(StreamClosedError):
                self.finish()

    async def _stream(self, hub: Any, subscription: Any, catchup: Any, loop: Any) -> None:
        self.set_header("Content-Type", EVENT_STREAM + "; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")  # nginx: pass each event on at once
        self.write(f"retry: {RETRY_MS}\n\n")
        if catchup.reset:
            self.write(_reset(catchup.last_id))
        for event in catchup.events:
            self.write(_sse(hub.view(event)))
        await self.flush()
        started = checked = loop.time()
        while not subscription.closed:
            events = await subscription.wait(hub.keepalive)
            if subscription.reset:  # fell too far behind
                self.write(_reset(hub.last_id()))
                await self.flush()
                return
            if not events and subscription.closed:
                return  # the Datasite is stopping
            for event in events:
                self.write(_sse(hub.view(event)))
            now = loop.time()
            if now - started > hub.max_age:
                return  # the client resumes from its last id
            # Idle, or busy for a while: is the reader still allowed? (else they log in again)
            if not events or now - checked >= hub.keepalive:
                if not await self._still_allowed():
                    return
                checked = now
            if not events:
                self.write(": keepalive\n\n")
            await self.flush()

    async def _still_allowed(self) -> bool:
        """Is the reader still who they were (session valid, account enabled, same role)?"""
        try:
            now = await self.reauthorize()
        except ServiceError:
            return False
        return now.user_id == self.actor.user_id and now.role == self.actor.role

    def on_connection_close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        super().on_connection_close()


RETRY_MS = 3000  # how long an EventSource waits before it reconnects


def _sse(event: PushEvent) -> str:
    return f"id: {event.id}\ndata: {event.model_dump_json()}\n\n"


def _reset(last_id: str) -> str:
    return f'id: {last_id}\nevent: reset\ndata: {{"last_event_id": "{last_id}"}}\n\n'


def _whole(text: str, name: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not low <= int(text) <= high:
        raise BadRequest(
            f"{name} must be a whole number from {low} to {high}, not {limits.clip(text)}."
        )
    return int(text)


class NotificationsHandler(Endpoint):
    contract = {
        "get": Op(
            "Your notifications, newest first unless order=oldest; status=unread or read; paged.",
            Page[Notification],
            query=NotificationQuery,
        )
    }
    defer_actor = True

    async def get(self) -> None:
        arg = self.get_query_argument
        page = PageParams.parse(arg("limit", None), arg("cursor", None), arg("order", "newest"))
        self.send_json(
            await self.run(self.services.notifications.list, self.actor, arg("status", None), page)
        )


class NotificationsCountHandler(Endpoint):
    contract = {
        "get": Op("How many notifications you have, and how many unread.", NotificationCount)
    }
    defer_actor = True

    async def get(self) -> None:
        self.send_json(await self.run(self.services.notifications.count, self.actor))


class NotificationsMarkHandler(Endpoint):
    contract = {
        "post": Op(
            "Mark your notifications read or unread: those in ids, or all of them.",
            NotificationsMarked,
            body=NotificationsMark,
        )
    }

    async def post(self) -> None:
        body: NotificationsMark = self.body()
        self.send_json(
            await self.run(self.services.notifications.mark, self.actor, body.read, body.ids)
        )


class NotificationPreferencesHandler(Endpoint):
    contract = {
        "get": Op("How you get notifications by mail.", NotificationPreferences),
        "patch": Op(
            "Choose how you get notifications by mail: instant, digest (daily) or off.",
            NotificationPreferences,
            body=NotificationPreferencesUpdate,
        ),
    }

    async def get(self) -> None:
        self.send_json(await self.run(self.services.notifications.preferences, self.actor))

    async def patch(self) -> None:
        self.send_json(
            await self.run(self.services.notifications.set_preferences, self.actor, self.body())
        )


class NotificationHandler(Endpoint):
    contract = {
        "get": Op("One of your notifications.", Notification),
        "patch": Op(
            "Mark one of your notifications read or unread.", Notification, body=NotificationUpdate
        ),
    }

    async def get(self, notification_id: str) -> None:
        self.send_json(await self.run(self.services.notifications.get, self.actor, notification_id))

    async def patch(self, notification_id: str) -> None:
        body: NotificationUpdate = self.body()
        self.send_json(
            await self.run(
                self.services.notifications.set_read, self.actor, notification_id, body.read
            )
        )


VERBS = ("get", "post", "patch", "put", "delete")
Guard = Callable[[Callable[..., Any]], Callable[..., Any]]


def route_table(
    prefix: str,
    host: type = DatasiteHandler,
    guard: Guard | None = None,
    only: frozenset[str] | None = None,
) -> list[tuple[str, type]]:
    """Routes under ``prefix`` (e.g. "/syft/api/v1/"); every one authorizes in a service.

    Each endpoint is combined with ``host``, the class that knows who is calling; ``guard``
    (e.g. ``tornado.web.authenticated``) wraps every verb, as Jupyter's auth check requires.
    ``only``: just these templates (a front process's, ``FRONT_ROUTES``).
    """
    # Tornado tries the rules in order: the busiest first. None of them overlaps a route it
    # moves ahead of, so each path still finds the same handler (tests/test_http_fast_paths.py).
    ordered = sorted(ROUTES, key=lambda route: route[0] not in HOT_ROUTES)
    return [
        (prefix + routes.pattern(template) + "$", hosted(endpoint, host, guard))
        for template, endpoint in ordered
        if only is None or template in only
    ]


@functools.cache
def hosted(endpoint: Any, host: type, guard: Guard | None) -> type:
    """``endpoint`` (an Endpoint subclass) on ``host``, its verbs wrapped in ``guard``."""
    namespace: dict[str, Any] = {"__module__": endpoint.__module__, "__doc__": endpoint.__doc__}
    if guard is not None:
        for verb in VERBS:
            if verb in _verbs(endpoint):
                namespace[verb] = guard(getattr(endpoint, verb))
    # What tornado.web.stream_request_body sets, on every route: ``prepare`` then runs before
    # the body is read, so a JSON body over the route's limit is refused unread.
    namespace["_stream_request_body"] = True
    return type(endpoint.__name__, (endpoint, host), namespace)


def _verbs(endpoint: type) -> set[str]:
    return {verb for verb in VERBS if any(verb in vars(k) for k in endpoint.__mro__)}


# The calls a busy Datasite answers most (listing, mocks, requests and their approval).
HOT_ROUTES = frozenset(
    (
        routes.DATASETS,
        routes.ASSET_VALUE,
        routes.REQUESTS,
        routes.REQUEST,
        routes.REQUEST_APPROVE,
        routes.ME,
    )
)

# What a front process of ``jupyter-syft serve --processes N`` answers itself (the rest goes to
# the primary, ``http/forward.py``): calls that read and write only the shared database and
# blob folder, never the runner, the job queue, the login limits or an upload in progress. The
# downloads are here too, so no large answer is relayed. Each path still finds the handler it
# would find in the whole table (tests/test_serve_processes.py).
FRONT_ROUTES = HOT_ROUTES | frozenset(
    (
        routes.METADATA,
        routes.EVENTS,
        routes.JOB,  # a held wait is woken by the primary's change (change_relay)
        routes.EXECUTION_RESULT,
        routes.NOTIFICATIONS,
        routes.NOTIFICATIONS_COUNT,
    )
)

# (template in wire.routes, endpoint); order matters where patterns overlap (preflight first).
ROUTES: list[tuple[str, type]] = [
    (routes.METADATA, MetadataHandler),
    (routes.LOGIN, LoginHandler),
    (routes.LOGOUT, LogoutHandler),
    (routes.REGISTER, RegisterHandler),
    (routes.GUEST, GuestSessionHandler),
    (routes.USERS, UsersHandler),
    (routes.ME, MeHandler),
    (routes.USER, UserHandler),
    (routes.USER_PASSWORD, UserPasswordHandler),
    (routes.SETTINGS, SettingsHandler),
    (routes.DATASETS, DatasetsHandler),
    (routes.DATASET_PREFLIGHT, DatasetPreflightHandler),
    (routes.DATASET, DatasetHandler),
    (routes.BLOBS, BlobUploadHandler),
    (routes.ASSET_VALUE, AssetValueHandler),
    (routes.ASSET_PREVIEW, AssetPreviewHandler),
    (routes.DATA_SUBJECTS, DataSubjectsHandler),
    (routes.CODE, CodeListHandler),
    (routes.CODE_ITEM, CodeHandler),
    (routes.CODE_RUN, CodeRunHandler),
    (routes.CODE_RUN_ON_MOCKS, CodeRunOnMocksHandler),
    (routes.CODE_BY_NAME_RUN, CodeByNameRunHandler),
    (routes.CODE_BY_NAME_JOBS, CodeByNameJobsHandler),
    (routes.CODE_EXECUTIONS, CodeExecutionsHandler),
    (routes.CODE_JOBS, CodeJobsHandler),
    (routes.JOBS, JobsHandler),
    (routes.JOB, JobHandler),
    (routes.JOB_KILL, JobKillHandler),
    (routes.EXECUTION_RESULT, ExecutionResultHandler),
    (routes.EXECUTION_PREVIEW, ExecutionPreviewHandler),
    (routes.OUTPUTS, OutputsHandler),
    (routes.OUTPUT, OutputHandler),
    (routes.OUTPUT_RELEASE, OutputReleaseHandler),
    (routes.OUTPUT_WITHHOLD, OutputWithholdHandler),
    (routes.OUTPUT_ORIGINAL, OutputOriginalHandler),
    (routes.OUTPUT_ORIGINAL_PREVIEW, OutputOriginalPreviewHandler),
    (routes.OUTPUT_JUSTIFICATION, OutputJustificationHandler),
    (routes.REQUESTS, RequestsHandler),
    (routes.REQUEST, RequestHandler),
    (routes.REQUEST_APPROVE, RequestApproveHandler),
    (routes.REQUEST_DENY, RequestDenyHandler),
    (routes.REQUEST_DEPOSIT, RequestDepositHandler),
    (routes.REQUEST_TIMELINE, RequestTimelineHandler),
    (routes.PROJECTS, ProjectsHandler),
    (routes.PROJECT, ProjectHandler),
    (routes.PROJECT_EVENTS, ProjectEventsHandler),
    (routes.AUDIT_EVENTS, AuditEventsHandler),
    (routes.AUDIT_VERIFY, AuditVerifyHandler),
    (routes.AUDIT_CHECKPOINT, AuditCheckpointHandler),
    (routes.NOTIFICATIONS, NotificationsHandler),
    (routes.NOTIFICATIONS_COUNT, NotificationsCountHandler),
    (routes.NOTIFICATIONS_MARK, NotificationsMarkHandler),
    (routes.NOTIFICATION_PREFERENCES, NotificationPreferencesHandler),
    (routes.NOTIFICATION, NotificationHandler),
    (routes.EVENTS, EventsHandler),
    (routes.ENVIRONMENTS, EnvironmentsHandler),
    (routes.ENVIRONMENT_REBUILD, EnvironmentRebuildHandler),
    (routes.ENVIRONMENT, EnvironmentHandler),
    (routes.ENVIRONMENT_REQUESTS, EnvironmentRequestsHandler),
    (routes.ENVIRONMENT_REQUEST_APPROVE, EnvironmentRequestApproveHandler),
    (routes.ENVIRONMENT_REQUEST_DENY, EnvironmentRequestDenyHandler),
]
