"""OpenTAXII 0.9.3 as an ASGI app, for ``uvicorn`` (the server the hub runs under).

Runs inside the OpenTAXII virtualenv that ``benchmarks/peers/setup`` makes, never in the
project's: ``uvicorn --app-dir benchmarks/peers opentaxii_asgi:app`` with ``OPENTAXII_CONFIG``
naming the configuration that ``benchmarks/compare.py`` writes (TAXII 2.1 only, SQL backend on
SQLite). ``a2wsgi`` runs the Flask (WSGI) app in its thread pool, as a WSGI server would.

One fix is applied before the app is built: OpenTAXII 0.9.3 serialises its TAXII 2.1 responses
with ``json.dumps``, which fails on the UUIDs of status resources, so every POST of objects
answers 500 after storing them (OpenTAXII issue #243, fixed upstream after 0.9.3 by pull
request #289). The fix is the one published on that issue: ``json.dumps(..., default=str)``.
"""

import functools
import json
import types

import opentaxii.taxii2.http as taxii2_http

taxii2_http.json = types.SimpleNamespace(dumps=functools.partial(json.dumps, default=str))

from a2wsgi import WSGIMiddleware  # noqa: E402  (after the fix, before the app is built)
from opentaxii.http import app as wsgi_app  # noqa: E402

app = WSGIMiddleware(wsgi_app)
