"""The written contract between a Datasite and its clients: routes, wire models, statuses.

A leaf: it imports nothing else of jupyter_syft but ``roles``, so the server, the Python client
and the generated OpenAPI file (``specification/datasite-api.json``, and from it the
sidebar's TypeScript types) all read the same definitions. ``routes`` is stdlib only; the
models need pydantic and are imported where they are used (``jupyter_syft.wire.models``).
"""
