"""A code request and a decision are written with Core statements and answered from the values
in hand (#18): the answers must be what a fresh read of the same request gives, field for
field, and two decisions taken at once must not both be recorded."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from statements import statements

import jupyter_syft as sy
from jupyter_syft.server import models
from jupyter_syft.server.rows import loaded, new_row
from jupyter_syft.server.services import requests as request_service
from jupyter_syft.server.services.errors import Conflict
from jupyter_syft.wire import models as wire
from jupyter_syft.wire.enums import Decision

SOURCE = "@sy.syft_function_single_use(data=asset)\ndef {name}(data):\n    return 1\n"


def _actor(node: Any, client: Any) -> Any:
    return node.datasite.services.auth.actor_for("Bearer " + client.session.api.connection.token)


def _payload(name: str, asset_id: str, project_id: str | None = None) -> wire.RequestCreate:
    code = wire.CodeSubmit(
        name=name,
        raw_code=SOURCE.format(name=name),
        input_policy=wire.InputPolicyBody(
            type="ExactMatch", inputs={"data": wire.PolicyInputBody(kind="asset", id=asset_id)}
        ),
        output_policy=wire.OutputPolicyBody(type="OutputPolicyExecuteOnce", limit=1),
    )
    return wire.RequestCreate(code=code, reason="to count", project_id=project_id)


def _listed(services: Any, actor: Any, request_id: str) -> wire.Request:
    return next(r for r in services.requests.list(actor).items if r.id == request_id)


def test_the_answers_of_a_request_and_its_decisions_are_what_a_read_gives(
    node, root, scientist, uploaded
):
    services = node.datasite.services
    root.users["ds@example.org"].update(institution="Lab of Counting")
    owner, ds = _actor(node, root), _actor(node, scientist)
    asset_id = scientist.datasets[0].assets[0].id
    project = services.projects.create(ds, wire.ProjectCreate(name="Counts"))

    created = services.requests.create(ds, _payload("count_rows", asset_id, project.id))
    for reader in (ds, owner):  # get (one joined read) and list (the ORM's rows)
        assert services.requests.get(reader, created.id) == created
        assert _listed(services, reader, created.id) == created
    assert created.requesting_user_institution == "Lab of Counting"
    assert created.project is not None and created.project.name == "Counts"
    assert created.code.user is not None and created.code.user.email == "ds@example.org"

    approved = services.requests.approve(owner, created.id)
    assert approved.status == Decision.APPROVED and approved.code.status == Decision.APPROVED
    assert approved.decided_by == wire.Person(name=root.account.name, email=root.account.email)
    assert services.requests.get(owner, created.id) == approved
    assert _listed(services, ds, created.id) == approved

    revoked = services.requests.deny(owner, created.id, "Ethics approval ended")
    assert revoked.deny_reason == "Ethics approval ended"
    assert services.requests.get(ds, created.id) == revoked == _listed(services, owner, revoked.id)
    assert [e["action"] for e in services.audit.events(2)] == [
        "request.revoked",
        "request.approved",
    ]


@contextlib.contextmanager
def _statements(node: Any) -> Iterator[list[str]]:
    """The first words of the statements this thread sends (the notifications and push
    threads have their own). Left out: PostgreSQL's advisory lock for the audit log (SQLite
    has none) and the settings' reads (auto-approval: the settings service's business)."""
    me = threading.get_ident()
    others = ("pg_advisory", "FROM settings", "FROM view_generations")

    def mine(statement: str) -> bool:
        return threading.get_ident() == me and not any(o in statement for o in others)

    with statements(node.datasite.store.engine, mine) as seen:
        words: list[str] = []
        yield words
    words += [statement.split()[0] for statement in seen]


def test_a_request_read_and_decided_costs_a_few_statements(node, root, scientist, uploaded):
    """Reading a request is one joined query (was 3); approving it one read, the two status
    UPDATEs and the audit event's head read and INSERT (was 8); a new request with new code
    its checks, its two INSERTs and its audit event (was 10)."""
    services = node.datasite.services
    owner, ds = _actor(node, root), _actor(node, scientist)
    asset_id = scientist.datasets[0].assets[0].id
    with _statements(node) as created:
        request = services.requests.create(ds, _payload("counted", asset_id))
    assert created == ["SELECT"] * 3 + ["INSERT"] * 2 + ["SELECT", "INSERT"], created
    with _statements(node) as read:
        services.requests.get(owner, request.id)
    assert read == ["SELECT"]
    with _statements(node) as decided:
        services.requests.approve(owner, request.id)
    assert decided == ["SELECT", "UPDATE", "UPDATE", "SELECT", "INSERT"]


def test_someone_elses_request_is_not_found(node, root, scientist, uploaded):
    services = node.datasite.services
    ds = _actor(node, scientist)
    created = services.requests.create(
        ds, _payload("mine_only", scientist.datasets[0].assets[0].id)
    )
    root.users.create(sy.UserCreate(email="other@example.org", name="Other", password="pw-ot-123"))
    other = sy.login(url=node.url, email="other@example.org", password="pw-ot-123", verbose=False)
    with pytest.raises(sy.SyftException, match=f"No request with id {created.id}") as info:
        other.requests.get_by_id(created.id)
    assert info.value.status == 404


def test_two_approvals_at_once_record_one_and_tell_the_second(
    node, root, scientist, uploaded, monkeypatch
):
    """Both read the request pending before either writes (a barrier holds them there): one
    approval is kept and audited; the other is told who approved, as a second approve is."""
    services = node.datasite.services
    owner, ds = _actor(node, root), _actor(node, scientist)
    created = services.requests.create(ds, _payload("raced", scientist.datasets[0].assets[0].id))
    barrier = threading.Barrier(2, timeout=20)
    waited: set[int] = set()
    check = request_service._refuse_same

    def after_both_read(session: Any, request: Any, decision: Any) -> None:
        check(session, request, decision)
        if threading.get_ident() not in waited:  # once per thread: its first read
            waited.add(threading.get_ident())
            barrier.wait()

    monkeypatch.setattr(request_service, "_refuse_same", after_both_read)
    outcomes: list[Any] = []

    def approve() -> None:
        try:
            outcomes.append(services.requests.approve(owner, created.id))
        except Exception as exc:  # the one refused is checked below
            outcomes.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    answers = [o for o in outcomes if isinstance(o, wire.Request)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(answers) == 1 and len(refused) == 1, outcomes
    assert "already approved by info@openmined.org" in str(refused[0])
    actions = [e["action"] for e in services.audit.events(50)]
    assert actions.count("request.approved") == 1
    assert services.audit.verify()


# --- rows: Core INSERTs from complete rows, and row objects from values in hand ---------------
def test_a_new_row_has_every_column_with_the_constructors_defaults():
    row = new_row(models.Request, code_id="c", user_id="u")
    made = models.Request(code_id="c", user_id="u")
    assert set(row) == set(models.Request.__table__.c.keys())  # type: ignore[attr-defined]
    for name in row:
        if name not in ("id", "created_at", "updated_at"):  # new each time
            assert row[name] == getattr(made, name), name
    assert len(row["id"]) == 32 and row["created_at"].tzinfo is not None
    given = {"user_id": "u", "service_func_name": "f", "raw_code": "r", "code": "c"}
    code = new_row(models.UserCode, code_hash="h", **given)
    assert code["findings"] == [] and code["nested_plan"] == {} and code["status"] == "pending"
    assert code["findings"] is not new_row(models.UserCode, code_hash="h2", **given)["findings"]
    assert new_row(models.Request, code_id="c", user_id="u")["id"] != row["id"]
    with pytest.raises(TypeError, match="no column nope"):
        new_row(models.Request, code_id="c", user_id="u", nope=1)
    with pytest.raises(TypeError, match="code_id has no default"):
        new_row(models.Request, user_id="u")


def test_a_loaded_row_reads_its_values_and_writes_nothing():
    request = loaded(models.Request, {"id": "r1", "status": "pending", "code_id": "c"})
    assert isinstance(request, models.Request)
    assert (request.id, request.status, request.code_id) == ("r1", "pending", "c")
    request.status = "approved"  # in no session: nothing to flush
    assert request.status == "approved"


def test_every_tables_default_factory_carries_its_signature():
    """pydantic asks each default_factory's signature on every new row; ``list`` took ~90 µs
    (a UserCode row: ~350 µs). A factory without a kept signature is a slow row again."""
    tables = models.Table.__subclasses__()
    assert len(tables) >= 20
    for model in tables:
        for name, field in model.model_fields.items():
            factory = field.default_factory
            if factory is not None:
                assert "__signature__" in vars(factory), f"{model.__name__}.{name}: {factory}"
