"""The REST API over the work-order store (FastAPI), under /api/v1, and the planners' web page."""

from ticketing.api.main import close_streams, create_app, create_status_app

__all__ = ["close_streams", "create_app", "create_status_app"]
