"""The kernel-side runtime: talks to a Datasite over HTTP. Never imports server modules.

Bottom to top (each module imports only those before it):
- ``connection``: HTTP transport, paging, streamed values; ``api``: one method per route, the
  only module that names routes; ``session``: who is connected where, shared by every view.
- ``statuses``, ``view``, ``collection``, ``results``, ``contributor``: shared pieces.
- By audience: ``dataset_authoring`` (owners write and upload datasets), ``datasets``
  (everyone browses them); ``syft_function`` (scientists write code and try it on mocks),
  ``user_code`` (submitted code, as reviewed), ``code`` (``client.code``: submit, call by
  name); ``requests``, ``jobs``, ``outputs`` (owners review results held for output review;
  the held state and disclosure report scientists see are ``results``), ``projects``,
  ``users``, ``settings``.
- ``client`` (``DatasiteClient``) on top, and ``login`` (``sy.login``...).
"""
