"""Submitting Syft functions, and reading them back: the checks a submission must pass (a
valid function, known policies, real assets, no duplicate), the list and the view."""

from __future__ import annotations

import builtins
import dataclasses
import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from .... import analysis
from ....errors import SyftException
from ....policies import (
    INPUT_POLICIES,
    MAX_POLICY_CODE,
    OUTPUT_POLICIES,
    USER_TYPES,
    CustomInputPolicy,
    CustomOutputPolicy,
    json_values,
)
from ....wire import models as wire
from ....wire.enums import Decision
from ... import models
from ...environments import is_default
from ...rows import insert_row, loaded, new_row
from ...store import Store
from .. import environments, paging
from ..actor import Actor, visible_row
from ..audit import AuditLog
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..limits import CODE, NAME, check_text, clip
from ..paging import PageParams, preload
from ..settings import SettingsService
from ..views import iso, person
from .binding import decode_inline
from .environment_view import environment_fields

# A submission's identifiers looked up among the scientist's functions (at most this many
# at once; a larger source looks at all of its author's function names).
MAX_NAMES_LOOKED_UP = 500


def _ascii_identifiers(source: str) -> list[str] | None:
    """Every word of an ASCII ``source`` that could be a name: a superset of the names the
    function reads. None for other sources (Unicode names are normalized and may hold marks
    that no simple pattern splits right: those look at every name)."""
    if not source.isascii():
        return None
    return sorted(set(_ASCII_WORD.findall(source)))


_ASCII_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

READ = object()  # view(author=READ): not given, the view reads it


class NewCode(NamedTuple):
    row: dict[str, Any]  # the UserCode row, checked, for add_code
    new_name: bool  # its author never submitted a function of that name before


class CodeSubmissions:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings

    # --- submitting --------------------------------------------------------------------------
    def require_can_submit(self, actor: Actor) -> None:
        if actor.user_id is None:
            raise Forbidden("Log in (or start a guest session) to submit code.")
        if actor.is_guest and not self.settings.value("allow_guest_code_requests"):
            raise Forbidden(
                "Guests cannot submit code on this Datasite; register an account "
                "(client.register(...)) and log in."
            )

    def submit(self, actor: Actor, payload: wire.CodeSubmit) -> wire.Code:
        self.require_can_submit(actor)
        with self.store.session() as session:
            code = self.add_code(session, self.new_code(session, actor, payload).row)
            event = ("code.submit", "code", code.id, {"name": code.service_func_name})
            self.audit.commit(session, actor, [event])
        return self.view(code)

    def add_code(self, session: Session, row: dict[str, Any]) -> models.UserCode:
        """Insert ``row`` (from ``new_code``) in ``session``'s transaction; the row's object.
        The same code twice is refused by the table's unique (user_id, code_hash)."""
        try:
            insert_row(session, models.UserCode, row)
        except IntegrityError:  # already submitted, maybe by a concurrent call just now
            raise Conflict(duplicate(row["service_func_name"])) from None
        return loaded(models.UserCode, row)

    def new_code(self, session: Any, actor: Actor, payload: wire.CodeSubmit) -> NewCode:
        """The row for a submission, checked (every column; not inserted: ``add_code``)."""
        name, raw = payload.name, payload.raw_code
        if not name.isidentifier():
            raise BadRequest("A Syft function needs a valid Python name.")
        check_text(name, "The function's name", NAME)
        if not raw.strip():
            raise BadRequest("The function's source code is missing.")
        check_text(raw, "The function's source code", CODE)
        pool = payload.worker_pool_name
        check_text(pool or "", "worker_pool_name", NAME)
        environment = environments.submitted_environment(session, payload.environment)
        input_policy = self._check_input_policy(session, payload.input_policy)
        output_policy = _check_output_policy(payload.output_policy)
        # Other functions this scientist submitted may be launched as nested jobs by name.
        names = _ascii_identifiers(raw)
        if names is not None and len(names) <= MAX_NAMES_LOOKED_UP:
            # only the functions the source can name, not all of them (that grows with time)
            query, values = _among(_names_query, names)
            found = session.connection().execute(query, {"user_id": actor.user_id, **values})
        else:
            found = session.connection().execute(_names_query(0), {"user_id": actor.user_id})
        submitted = found.scalars().all()
        checked = analysis.check_submission(
            raw, name, policy_keys=input_policy["inputs"], known_functions=submitted
        )
        findings = checked.findings
        fatal = [f for f in findings if f.kind in ("syntax_error", "not_a_function")]
        if fatal:
            raise BadRequest(fatal[0].message)
        # A custom policy's class is checked as the function is, and its findings shown with
        # the function's to the reviewer.
        findings += _custom_policy_findings(input_policy) + _custom_policy_findings(output_policy)
        row = new_row(
            models.UserCode,
            user_id=actor.user_id or "",
            service_func_name=name,
            raw_code=raw,
            code=checked.code,
            code_hash=_code_hash(name, raw, environment),
            parameters=checked.parameters,
            input_policy=input_policy,
            output_policy=output_policy,
            findings=[f.to_json() for f in findings],
            nested_calls=checked.nested_calls,
            share_results_with_owners=payload.share_results_with_owners,
            worker_pool_name=pool or "default-pool",
            environment=environment,
        )
        # (``submitted`` holds the name if it was submitted: the source names its function)
        return NewCode(row, name not in submitted)

    def author_and_submitted(
        self, session: Any, actor: Actor, payload: wire.CodeSubmit
    ) -> tuple[models.User | None, models.UserCode | None]:
        """The caller's row as an author (name, email and institution: what answers show;
        None: no such account) and their code of ``payload`` if they submitted it already,
        in one read."""
        environment = payload.environment or ""
        code_hash = _code_hash(payload.name, payload.raw_code, environment)
        found = (
            session.connection()
            .execute(
                _author_and_submitted_query(), {"user_id": actor.user_id, "code_hash": code_hash}
            )
            .first()
        )
        if found is None:
            return None, None
        name, email, institution, code_id = found
        author = loaded(
            models.User,
            {"id": actor.user_id, "name": name, "email": email, "institution": institution},
        )
        # the whole code only when there is one (most requests bring new code)
        return author, session.get(models.UserCode, code_id) if code_id is not None else None

    def _check_input_policy(
        self, session: Any, policy: wire.InputPolicyBody | None
    ) -> dict[str, Any]:
        """As stored: the shape of a ``wire.InputPolicy``."""
        if policy is None:
            return models.default_input_policy()
        if not _known(policy.type, INPUT_POLICIES):
            raise BadRequest(f"Unknown input policy; use one of {', '.join(INPUT_POLICIES)}.")
        mixed = policy.type in ("MixedInputPolicy", CustomInputPolicy.kind)
        inputs = policy.inputs or {}
        # the names of the assets named, in one read
        asset_ids = {s.id for s in inputs.values() if s.kind == "asset" and s.id is not None}
        asset_names = (
            dict(session.connection().execute(*_among(_assets_query, sorted(asset_ids))).all())
            if asset_ids
            else {}
        )
        clean: dict[str, Any] = {}
        for param, spec in inputs.items():
            kind = spec.kind
            if kind == "asset":
                asset_id = spec.id
                if asset_id not in asset_names:
                    raise NotFound(
                        f"Input {clip(param)} names an asset that is not on this Datasite."
                    )
                clean[param] = {"kind": "asset", "id": asset_id, "name": asset_names[asset_id]}
            elif kind == "type" and mixed:
                if spec.type not in USER_TYPES:
                    raise BadRequest(
                        f"Input {clip(param)}: types allowed are {', '.join(USER_TYPES)}."
                    )
                clean[param] = {"kind": "type", "type": spec.type}
            elif kind == "constant" and mixed:
                value = decode_inline(spec.data, param)
                clean[param] = {"kind": "constant", "data": spec.data, "preview": _preview(value)}
            else:
                raise BadRequest(f"Input {clip(param)} of {policy.type} is not valid.")
        if policy.type == CustomInputPolicy.kind:
            return {"type": policy.type, "inputs": clean, **_custom_parts(policy)}
        _no_custom_parts(policy)
        return {"type": policy.type, "inputs": clean}

    # --- reading -----------------------------------------------------------------------------
    def list(
        self, actor: Actor, page: PageParams | None = None, name: str | None = None
    ) -> wire.Page[wire.Code]:
        """One page of the code the caller may see, by submit time (see ``paging``); ``name``:
        only the versions of that function."""
        actor.require_user("list code")
        with self.store.session() as session:
            query = select(models.UserCode)
            if not actor.is_owner:
                query = query.where(models.UserCode.user_id == actor.user_id)
            if name:
                query = query.where(models.UserCode.service_func_name == name)

            def views(rows: Sequence[models.UserCode]) -> builtins.list[wire.Code]:
                preload(session, models.User, {c.user_id for c in rows})  # authors, one query
                return [self.view(c, session, actor) for c in rows]

            return paging.page(
                session,
                query,
                "code",
                col(models.UserCode.submit_time),
                col(models.UserCode.id),
                page,
                views,
            )

    def get(self, actor: Actor, code_id: str) -> wire.Code:
        with self.store.session() as session:
            return self.view(visible(session, actor, code_id), session, actor)

    def version_to_run(self, actor: Actor, name: Any) -> str:
        """The id of the version of function ``name`` a call by name runs: of the versions the
        caller may see (their own first; an owner may call a scientist's), the latest approved
        one, else the latest submitted. Someone else's function is "no such function"."""
        actor.require_user("run code")
        if not isinstance(name, str) or not name.isidentifier():
            raise BadRequest(f"{clip(name)} is not a function name.")
        check_text(name, "The function's name", NAME)
        with self.store.session() as session:
            query = select(models.UserCode).where(models.UserCode.service_func_name == name)
            if not actor.is_owner:
                query = query.where(models.UserCode.user_id == actor.user_id)
            versions = session.exec(
                query.order_by(col(models.UserCode.submit_time), col(models.UserCode.id))
            ).all()
        mine = [c for c in versions if c.user_id == actor.user_id] or versions
        if not mine:
            raise NotFound(
                f"No code named {name!r} was submitted: use client.code.request_code_execution(fn)."
            )
        approved = [c for c in mine if c.status == Decision.APPROVED]
        return (approved or mine)[-1].id

    def view(
        self,
        code: models.UserCode,
        session: Any = None,
        actor: Actor | None = None,
        author: models.User | object | None = READ,
    ) -> wire.Code:
        """``author``: the code's author's row (its name and email) when the caller has it
        (None: the account is gone); by default it is read through ``session``."""
        if author is READ:
            author = session.get(models.User, code.user_id) if session is not None else None
        assert author is None or isinstance(author, models.User)
        output_policy = wire.OutputPolicy.model_validate(code.output_policy)
        if (
            actor is not None
            and actor.is_owner
            and session is not None
            and code.output_policy.get("code")
        ):
            # a custom policy's state: computed next to the private data, so owners only
            output_policy.state = latest_policy_state(session, code.id, code.output_policy)
        return wire.Code(
            id=code.id,
            service_func_name=code.service_func_name,
            raw_code=code.raw_code,
            code=code.code,
            parameters=code.parameters,
            input_policy=wire.InputPolicy.model_validate(code.input_policy),
            output_policy=output_policy,
            findings=[wire.Finding.model_validate(f) for f in code.findings],
            status=Decision(code.status),
            runs_used=code.runs_used,
            share_results_with_owners=code.share_results_with_owners,
            worker_pool_name=code.worker_pool_name,
            environment=code.environment,
            submit_time=iso(code.submit_time),
            user=person(author),
            **self._environment_fields(session, code),
        )

    def _environment_fields(self, session: Any, code: models.UserCode) -> dict[str, Any]:
        """The review's view of the code's environment (``environment_view``)."""
        if session is not None:
            return environment_fields(session, code)
        with self.store.session() as own:
            return environment_fields(own, code)

    def nested_closure(
        self, session: Any, code: models.UserCode
    ) -> builtins.list[tuple[str, models.UserCode | None]]:
        """What ``code`` launches, directly or through what it launches: each name its real
        calls use, resolved to the scientist's latest version (None: nothing submitted)."""
        found: builtins.list[tuple[str, models.UserCode | None]] = []
        queue, seen = list(code.nested_calls), {code.service_func_name}
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            row = session.exec(
                select(models.UserCode)
                .where(
                    models.UserCode.user_id == code.user_id,
                    models.UserCode.service_func_name == name,
                )
                .order_by(col(models.UserCode.submit_time).desc())
            ).first()
            found.append((name, row))
            if row is not None:
                queue.extend(row.nested_calls)
        return found


@functools.cache
def _author_and_submitted_query() -> Select[Any]:
    """A user's name, email and institution, and the id of their code of a hash (None when
    there is none: (user_id, code_hash) is unique). Built once: statements cost to build."""
    users = models.User.__table__  # type: ignore[attr-defined]
    codes = models.UserCode.__table__  # type: ignore[attr-defined]
    return (
        sa_select(users.c.name, users.c.email, users.c.institution, codes.c.id)
        .select_from(
            users.outerjoin(
                codes,
                (codes.c.user_id == users.c.id) & (codes.c.code_hash == bindparam("code_hash")),
            )
        )
        .where(users.c.id == bindparam("user_id"))
    )


def _among(
    query: Callable[[int], Select[Any]], values: Sequence[str]
) -> tuple[Select[Any], dict[str, str]]:
    """``query`` for an IN of ``values``, with its parameters ``in_0``...: one bind per value,
    their count rounded up to a power of two (the last value repeated; none: "", which no
    name or id is), so a few statements serve every count. (An expanding IN is rendered anew
    at each run.)"""
    values = list(values) or [""]
    size = 1 << (len(values) - 1).bit_length()
    padded = [*values, *[values[-1]] * (size - len(values))]
    return query(size), {f"in_{i}": value for i, value in enumerate(padded)}


def _binds(count: int) -> list[Any]:
    return [bindparam(f"in_{i}") for i in range(count)]


@functools.cache
def _names_query(among: int) -> Select[Any]:
    """The names of a scientist's functions (``among`` > 0: only those in ``in_0``... of
    ``_among``; 0: all)."""
    codes = models.UserCode.__table__  # type: ignore[attr-defined]
    query = sa_select(codes.c.service_func_name).where(codes.c.user_id == bindparam("user_id"))
    if among:
        query = query.where(codes.c.service_func_name.in_(_binds(among)))
    return query.distinct()


@functools.cache
def _assets_query(among: int) -> Select[Any]:
    """(id, name) of the assets among ``in_0``... (``_among``)."""
    assets = models.Asset.__table__  # type: ignore[attr-defined]
    return sa_select(assets.c.id, assets.c.name).where(assets.c.id.in_(_binds(among)))


def visible(session: Any, actor: Actor, code_id: str) -> models.UserCode:
    """The code ``code_id`` if the caller may see it (its author, or an owner), else NotFound."""
    return visible_row(session, actor, models.UserCode, code_id, "code")


def latest_policy_state(session: Any, code_id: str, policy: dict[str, Any]) -> Any:
    """The state a custom output policy is in: as its latest run on private data left it
    (JSON values), or None before any run (the policy's __init__ then makes it, in the
    sandbox)."""
    row = latest_policy_state_row(session, code_id)
    return row.get("state") if isinstance(row, dict) else None


def latest_policy_state_row(session: Any, code_id: str) -> Any:
    """``{"state": ...}`` as the latest run on private data stored it, or None."""
    return session.exec(
        select(models.Execution.policy_state)
        .where(
            models.Execution.code_id == code_id,
            col(models.Execution.on_private_data),
            col(models.Execution.has_policy_state),
        )
        .order_by(col(models.Execution.created_at).desc(), col(models.Execution.id).desc())
    ).first()


def duplicate(name: str) -> str:
    return (
        f"The code to be submitted (name and content) already exists: {name!r}. "
        "Change the code or give the function another name."
    )


def _code_hash(name: Any, raw: Any, environment: str = "") -> str:
    """The same function in another environment is another version; in the default one its
    hash is what it always was."""
    env = "" if is_default(environment) else f"\0environment={environment.strip()}"
    return hashlib.sha256(f"{name}\0{raw}{env}".encode()).hexdigest()


def _known(kind: Any, names: Any) -> bool:
    return isinstance(kind, str) and kind in names  # an unhashable "type" is just unknown


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _check_output_policy(policy: wire.OutputPolicyBody | None) -> dict[str, Any]:
    """As stored: the shape of a ``wire.OutputPolicy``."""
    if policy is None:
        return models.default_output_policy()
    if not _known(policy.type, OUTPUT_POLICIES):
        raise BadRequest(f"Unknown output policy; use one of {', '.join(OUTPUT_POLICIES)}.")
    if policy.type == CustomOutputPolicy.kind:
        if policy.limit is not None:
            raise BadRequest(
                "A CustomOutputPolicy has no limit: its is_valid() decides whether the code runs."
            )
        return {"type": policy.type, **_custom_parts(policy)}
    _no_custom_parts(policy)
    if policy.limit is None or policy.limit < 1:
        raise BadRequest("An output policy's limit must be a whole number of at least 1.")
    return {"type": policy.type, "limit": policy.limit}


def _custom_parts(policy: wire.InputPolicyBody | wire.OutputPolicyBody) -> dict[str, Any]:
    """A custom policy's class name, source and arguments, checked (as stored)."""
    name, code, kwargs = policy.class_name, policy.code, policy.init_kwargs
    if not isinstance(name, str) or not name.isidentifier():
        raise BadRequest(f"A {policy.type} needs its class's name (a Python name).")
    check_text(name, "The policy's class name", NAME)
    if not isinstance(code, str) or not code.strip():
        raise BadRequest(f"The source of the policy class {name} is missing.")
    check_text(code, f"The source of the policy class {name}", MAX_POLICY_CODE)
    try:
        init_kwargs = json_values(kwargs or {}, f"The arguments of {name}")
    except SyftException as exc:
        raise BadRequest(str(exc)) from None
    for key in init_kwargs:
        if not key.isidentifier():
            raise BadRequest(f"The arguments of {name}: {clip(key)} is not a keyword name.")
    base = policy.type
    fatal = [
        f
        for f in analysis.analyze_policy_class(code, name, base)
        if f.kind in ("syntax_error", "not_a_policy")
    ]
    if fatal:
        raise BadRequest(f"The policy class {name}: {fatal[0].message}")
    return {"class_name": name, "code": code, "init_kwargs": init_kwargs}


def _no_custom_parts(policy: wire.InputPolicyBody | wire.OutputPolicyBody) -> None:
    if policy.class_name or policy.code or policy.init_kwargs:
        raise BadRequest(
            f"{policy.type} takes no class source or init_kwargs: those are for "
            "CustomInputPolicy and CustomOutputPolicy subclasses."
        )


def _custom_policy_findings(policy: dict[str, Any]) -> list[analysis.Finding]:
    """The static checks of a custom policy's class, each message naming the class."""
    if not policy.get("code"):
        return []
    name = policy["class_name"]
    return [
        dataclasses.replace(f, message=f"In the policy class {name} (line {f.line}): {f.message}")
        for f in analysis.analyze_policy_class(policy["code"], name, policy["type"])
    ]
