"""One APIRouter per file; `main` includes them in this order (fixed paths before
`/jobs/{job_id}`)."""

from . import dead, enqueue, health, jobs, process, stats

ROUTERS = [health.router, enqueue.router, process.router, stats.router, dead.router, jobs.router]

__all__ = ["ROUTERS"]
