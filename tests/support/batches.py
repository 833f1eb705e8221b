"""Following a batch job to its end without a worker."""

from __future__ import annotations

import time

from genlook_django.models import BatchJob
from genlook_django.services import batches


def wait_done(job: BatchJob, timeout: float = 20.0) -> batches.Progress:
    """Poll through (as the admin page does without a worker) until the job is done."""
    deadline = time.monotonic() + timeout
    while True:
        batches.poll_through(job)
        job.refresh_from_db()
        if job.state == BatchJob.State.DONE:
            return batches.progress(job)
        assert time.monotonic() < deadline, f"still {job.state}: {batches.progress(job)}"
        time.sleep(0.1)
