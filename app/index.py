"""Vercel's Python entrypoint (it looks for `app` in app/index.py): the app of `app.main`."""

from app.main import app

__all__ = ["app"]
