"""The FastAPI application: REST API under /api/v1, web pages under /, OpenAPI at /docs."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cohortbench import __version__
from cohortbench.api import problems
from cohortbench.api.headers import NoStoreMiddleware
from cohortbench.api.routes import admin, submissions, workspaces
from cohortbench.service.platform import Platform
from cohortbench.service.settings import Settings
from cohortbench.web import pages


def create_app(platform: Platform | None = None, *, settings: Settings | None = None) -> FastAPI:
    """Build the app around a platform (opened from settings when not given)."""
    platform = platform or Platform.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop: threading.Event | None = None
        if platform.settings.embedded_worker:
            from cohortbench.service.worker import start_embedded_worker

            _thread, stop = start_embedded_worker(platform)
        # Keep what start-up imported (numpy, scikit-learn, SQLAlchemy: ~200k objects) out of the
        # cyclic garbage collector's full passes, which otherwise stall a request for ~120 ms each
        # time a large response (a 1,000-row leaderboard) has promoted enough objects to trigger one.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if stop is not None:
                stop.set()

    app = FastAPI(
        title="cohortbench",
        version=__version__,
        summary="Evaluate models on private clinical cohorts: only numbers leave.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    problems.install(app)
    app.add_middleware(NoStoreMiddleware)
    for module in (workspaces, submissions, admin):
        app.include_router(module.router)
    app.include_router(pages.router)  # the web pages, mounted explicitly: an import error is an error
    return app
