"""TAXII 2.1 over HTTP: routes, media types, query filters and the error mapping."""
