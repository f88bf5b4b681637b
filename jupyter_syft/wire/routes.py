"""Every Datasite route, once: the server builds its route table from these templates and the
Python client (``client/api.py``) fills them in. Stdlib only, so it costs nothing to import.

A template names its parameters as OpenAPI does (``code/{code_id}/run``); ``PARAMETERS`` says
what each one matches on the server.
"""

from __future__ import annotations

import re
from urllib.parse import quote

API_VERSION = "v1"
# Relative to a server's base URL. A standalone Datasite and the Jupyter server extension's
# remote-facing routes answer under API_PREFIX; the extension's owner routes (Jupyter login)
# under LAB_API_PREFIX; the sidebar reaches other Datasites through REMOTES_PREFIX.
API_PREFIX = f"syft/api/{API_VERSION}/"
LAB_API_PREFIX = f"syft/lab/api/{API_VERSION}/"
REMOTES_PREFIX = "syft/lab/remotes/"

ID = "[0-9a-f]{32}"
NAME = "[^/]+"
# What a template parameter matches: ids are hex uuids; keys take an id or a name.
PARAMETERS = {
    "user_id": ID,
    "code_id": ID,
    "job_id": ID,
    "asset_id": ID,
    "execution_id": ID,
    "request_id": ID,
    "notification_id": ID,
    "environment_request_id": ID,
    "environment": NAME,
    "which": "mock|data",
    "dataset": NAME,
    "project": NAME,
    "name": NAME,
}

METADATA = "metadata"
LOGIN = "auth/login"
LOGOUT = "auth/logout"
REGISTER = "auth/register"
GUEST = "auth/guest"
USERS = "users"
ME = "users/me"
USER = "users/{user_id}"
USER_PASSWORD = "users/{user_id}/password"  # noqa: S105 (a route, not a secret)
SETTINGS = "settings"
DATASETS = "datasets"
DATASET_PREFLIGHT = "datasets/preflight"
DATASET = "datasets/{dataset}"
BLOBS = "blobs"
ASSET_VALUE = "assets/{asset_id}/{which}"
ASSET_PREVIEW = "assets/{asset_id}/{which}/preview"
DATA_SUBJECTS = "data-subjects"
CODE = "code"
CODE_ITEM = "code/{code_id}"
CODE_RUN = "code/{code_id}/run"
CODE_RUN_ON_MOCKS = "code/{code_id}/run-on-mocks"
CODE_BY_NAME_RUN = "code/by-name/{name}/run"
CODE_BY_NAME_JOBS = "code/by-name/{name}/jobs"
CODE_EXECUTIONS = "code/{code_id}/executions"
CODE_JOBS = "code/{code_id}/jobs"
JOBS = "jobs"
JOB = "jobs/{job_id}"
JOB_KILL = "jobs/{job_id}/kill"
EXECUTION_RESULT = "executions/{execution_id}/result"
EXECUTION_PREVIEW = "executions/{execution_id}/preview"
OUTPUTS = "outputs"
OUTPUT = "outputs/{execution_id}"
OUTPUT_RELEASE = "outputs/{execution_id}/release"
OUTPUT_WITHHOLD = "outputs/{execution_id}/withhold"
OUTPUT_ORIGINAL = "outputs/{execution_id}/original"
OUTPUT_ORIGINAL_PREVIEW = "outputs/{execution_id}/original/preview"
OUTPUT_JUSTIFICATION = "outputs/{execution_id}/justification"
REQUESTS = "requests"
REQUEST = "requests/{request_id}"
REQUEST_APPROVE = "requests/{request_id}/approve"
REQUEST_DENY = "requests/{request_id}/deny"
REQUEST_DEPOSIT = "requests/{request_id}/deposit"
REQUEST_TIMELINE = "requests/{request_id}/timeline"
PROJECTS = "projects"
PROJECT = "projects/{project}"
PROJECT_EVENTS = "projects/{project}/events"
AUDIT_EVENTS = "audit/events"
EVENTS = "events"  # the push channel (server-sent events, or JSON)
AUDIT_VERIFY = "audit/verify"
AUDIT_CHECKPOINT = "audit/checkpoint"
NOTIFICATIONS = "notifications"
NOTIFICATIONS_COUNT = "notifications/count"
NOTIFICATIONS_MARK = "notifications/mark"
NOTIFICATION_PREFERENCES = "notifications/preferences"
NOTIFICATION = "notifications/{notification_id}"
ENVIRONMENTS = "environments"
ENVIRONMENT = "environments/{environment}"
ENVIRONMENT_REBUILD = "environments/{environment}/rebuild"
ENVIRONMENT_REQUESTS = "environment-requests"
ENVIRONMENT_REQUEST_APPROVE = "environment-requests/{environment_request_id}/approve"
ENVIRONMENT_REQUEST_DENY = "environment-requests/{environment_request_id}/deny"

_PARAM = re.compile(r"\{(\w+)\}")


def pattern(template: str) -> str:
    """The tornado regex of ``template``: each ``{param}`` a capture group."""
    return _PARAM.sub(lambda m: f"({PARAMETERS[m.group(1)]})", template)


def parameters(template: str) -> list[str]:
    return _PARAM.findall(template)


def path(template: str, **values: str) -> str:
    """``template`` filled in, each value quoted as one path segment."""
    missing = set(parameters(template)) - set(values)
    if missing:
        raise KeyError(f"{template} needs {', '.join(sorted(missing))}")
    return _PARAM.sub(lambda m: quote(str(values[m.group(1)]), safe=""), template)
