"""The REST API over the work-order store (FastAPI), under /api/v1."""

from ticketing.api.main import create_app

__all__ = ["create_app"]
