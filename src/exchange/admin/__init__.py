"""The admin REST API (OpenAPI at ``/admin/docs``)."""
