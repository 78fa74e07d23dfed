"""The HTTP service: FastAPI on top of `jobqueue` (see `app.main`)."""
