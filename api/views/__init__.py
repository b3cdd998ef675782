"""The REST API's views, one module per resource (docs/design.md#api): thin views over
the same selectors and services as the dashboard."""
