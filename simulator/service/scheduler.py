"""Durable jobs: every timed rule of the payment service is a row in ``jobs`` with a
``due_at`` on the service clock (STYLE.md rule 5: nothing sleeps, nothing is
fire-and-forget).

A job is claimed with a lease (``claimed_until``, on the wall clock shared by every
process) inside ``BEGIN IMMEDIATE``, so several workers or processes draining at once
never run the same job twice while its lease lives. A lease names its owner
(``host:pid/tag``): the job of a worker that was killed is taken again at the next drain,
one of a worker on another host when its lease runs out. Handlers are idempotent: they re-read state
and do nothing when the work is already done, so a job run twice after a lost lease is
harmless.

Kinds (handled by ``PaymentService``):

- ``close_window`` (ref: win id) at the window's end: expire open Checkout Sessions at
  Stripe, and cancel the order if nothing was paid.
- ``check_stripe_expiry`` (ref: payment session id) shortly after the session's
  ``expires_at``: re-read it from Stripe in case the webhook was missed.
- ``send_reminder`` (ref: ``win:payment_session:n``) at +1 h, +6 h, +18 h after a failure.
- ``send_mail`` (ref: outbox id), ``issue_receipt`` (ref: order id): work done after a
  commit, retried here when it failed then.
- ``expire_checkout`` (ref: payment session id): close a Checkout Session at Stripe that
  must no longer take money (the win was paid through another attempt, or the window
  closed while it was being created).
- ``reconcile_payments`` and ``recover_inbox`` (ref: ``periodic``): at start-up and then
  every few minutes, apply what Stripe knows and a lost webhook did not say, and finish
  inbox events whose processing a crash cut off.
- ``deliver_alert`` (ref: alert id): send a recorded alert to ``ALERT_WEBHOOK_URL``
  (queued with the alert, ``adapters/alert_webhook.py``); ``check_failure_rate`` (ref:
  ``latest``): after a failed payment, the failure-rate alert rule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from simulator.common.clock import Clock, monotonic, system_time
from simulator.common.ids import default_ids
from simulator.common.processes import process_alive, this_process
from simulator.service.domain.alerts import Alert
from simulator.service.domain.jobs import Job
from simulator.service.domain.stores import SchedulerStore

log = logging.getLogger("simulator.service.scheduler")

CLOSE_WINDOW = "close_window"
CHECK_STRIPE_EXPIRY = "check_stripe_expiry"
SEND_REMINDER = "send_reminder"
SEND_MAIL = "send_mail"
ISSUE_RECEIPT = "issue_receipt"
EXPIRE_CHECKOUT = "expire_checkout"
RECONCILE_PAYMENTS = "reconcile_payments"
RECOVER_INBOX = "recover_inbox"
DELIVER_ALERT = "deliver_alert"
CHECK_FAILURE_RATE = "check_failure_rate"
UPKEEP_REF = "periodic"  # the one job of each periodic kind

# A handler returns None when the job is done, or a service-clock time to run it again.
JobHandler = Callable[[Job], float | None]


@dataclass(frozen=True)
class RetryBackoff:
    """After a handler fails: 30 s, 1 min, 2 min … up to an hour; dead after
    ``max_attempts`` (an alert then asks a human)."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10

    def delay(self, attempts: int) -> float:
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


class Scheduler:
    def __init__(self, repo: SchedulerStore, clock: Clock, *, lease_seconds: float = 300.0,
                 backoff: RetryBackoff | None = None, owner: str | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.backoff = backoff or RetryBackoff()
        self.owner = owner or this_process(default_ids.new("worker", 8))
        self.handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def schedule(self, kind: str, ref: str, due_at: float) -> int | None:
        """Add a job (joins the caller's transaction); None if (kind, ref) exists."""
        return self.repo.schedule_job(kind, ref, due_at, self.clock.timestamp())

    def run_due(self, now: float | None = None, *, limit: int = 10_000) -> int:
        """Run every job due at ``now`` (the service clock by default); the number run.
        A job that fails is put back later, so one drain never loops on it."""
        at = self.clock.now() if now is None else now
        self._release_claims_of_dead_workers()
        ran = 0
        while ran < limit:
            job = self._claim(at)
            if job is None:
                break
            self._execute(job)
            ran += 1
        return ran

    def run_due_and_settle(self, timeout_seconds: float = 30.0) -> int:
        """Run what is due, then wait while another worker still runs a job due now. A
        caller about to move the clock on (a step of the sandbox's jump) must not leave
        work due at this moment to finish at a later time: a reminder written after the
        window closed is a reminder lost."""
        ran = self.run_due()
        deadline = monotonic() + timeout_seconds
        pause = threading.Event()
        while (self.repo.held_due_jobs(self.clock.now(), system_time())
               and monotonic() < deadline):
            pause.wait(0.02)
            ran += self.run_due()
        return ran

    def run_now(self, job_ids: Iterable[int | None]) -> int:
        """Run these jobs at once if due (after the commit that made them); whatever
        fails stays in the table for ``run_due``."""
        ran = 0
        for job_id in job_ids:
            job = self._claim(self.clock.now(), job_id) if job_id is not None else None
            if job is not None:
                self._execute(job)
                ran += 1
        return ran

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        """The scheduler loop for a long-running process (``stripe-sim up``). The
        interval bounds how late a timed rule runs; one second keeps the window's
        closing within the ±1 s the story asks."""
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("scheduler drain failed")
            stop.wait(interval)

    def _release_claims_of_dead_workers(self) -> None:
        for owner in self.repo.job_claim_owners(system_time()):
            if not process_alive(owner):
                log.warning("jobs claimed by %s, which is gone, are taken over", owner)
                with self.repo.transaction():
                    self.repo.release_job_claims(owner)

    def _claim(self, now: float, job_id: int | None = None) -> Job | None:
        lease_now = system_time()
        return self.repo.claim_due_job(now, lease_now + self.lease_seconds, self.owner,
                                       lease_now, job_id)

    def _execute(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind}")
            again = handler(job)
        except Exception as error:
            self._failed(job, error)
            return
        with self.repo.transaction():
            if again is None:
                self.repo.finish_job(job.id, self.owner)
            else:
                self.repo.retry_job(job.id, self.owner, again, "", give_up=False)

    def _failed(self, job: Job, error: Exception) -> None:
        give_up = job.attempts >= self.backoff.max_attempts
        log.warning("job %s %s failed (attempt %d): %s", job.kind, job.ref, job.attempts,
                    error, exc_info=not isinstance(error, LookupError))
        due_at = self.clock.now() + self.backoff.delay(job.attempts)
        with self.repo.transaction():
            self.repo.retry_job(job.id, self.owner, due_at, f"{type(error).__name__}: {error}",
                                give_up)
        if give_up:
            self.repo.add_alert(Alert(
                "job_failed", "critical",
                f"Job {job.kind} {job.ref} failed {job.attempts} times and was given up:"
                f" {error}", self.clock.timestamp(), subject_id=f"{job.kind}:{job.ref}"))
