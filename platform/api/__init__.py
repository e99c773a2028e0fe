"""The REST API of an agency (``/api/v1/`` on its host): API keys, endpoints, OpenAPI."""
