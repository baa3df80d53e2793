"""The status API: response schemas (the OpenAPI contract), routes, and the dashboard page."""
