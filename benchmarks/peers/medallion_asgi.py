"""medallion 3.0.0 as an ASGI app, for ``uvicorn`` (the server the hub runs under).

Runs inside the medallion virtualenv that ``benchmarks/peers/setup`` makes, never in the
project's: ``uvicorn --app-dir benchmarks/peers medallion_asgi:app`` with ``MEDALLION_CONFIG``
naming the JSON configuration that ``benchmarks/compare.py`` writes (memory backend, basic-auth
users). ``a2wsgi`` runs the Flask (WSGI) app in its thread pool, as a WSGI server would.
"""

import os

from a2wsgi import WSGIMiddleware
from medallion import load_app

app = WSGIMiddleware(load_app(os.environ["MEDALLION_CONFIG"]))
