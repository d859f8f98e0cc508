"""Durable jobs: one row per (kind, ref), claimed with a lease by the worker running it,
retried with backoff, done or dead."""

from __future__ import annotations

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.card_numbers import mask_card_numbers
from simulator.service.domain.jobs import Job


class JobRecords(Store):
    """``jobs``: ``done`` is 0 while pending, 1 when done or canceled, 2 when dead."""

    def schedule_job(self, kind: str, ref: str, due_at: float, at: int) -> int | None:
        """The job's id, or None when a job of that kind and ref already exists."""
        cursor = self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO NOTHING", (kind, ref, due_at, at))
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def claim_due_job(self, now: float, lease_until: float, owner: str, lease_now: float,
                      job_id: int | None = None) -> Job | None:
        """Take the earliest due job nobody holds a live lease on. ``now`` is the
        service clock (what ``due_at`` means); leases compare against the wall clock
        (``lease_now``), which every process shares even when a test moved the clock."""
        only = "AND id = :job_id" if job_id is not None else ""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE jobs SET claimed_until = :lease_until, claimed_by = :owner,"
                " attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE done = 0"
                f" AND due_at <= :now {only} AND IFNULL(claimed_until, 0) <= :lease_now"
                " ORDER BY due_at, id LIMIT 1)"
                " RETURNING id, kind, ref, due_at, attempts, claimed_by",
                {"lease_until": lease_until, "owner": owner, "now": now,
                 "lease_now": lease_now, "job_id": job_id}).fetchone()
        return Job(**dict(row)) if row else None

    def finish_job(self, job_id: int, owner: str) -> None:
        self.connection().execute(
            "UPDATE jobs SET done = 1, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
            (job_id, owner))

    def retry_job(self, job_id: int, owner: str, due_at: float, error: str,
                  give_up: bool) -> None:
        """Put a failed job back at ``due_at`` (or mark it dead: ``done = 2``)."""
        self.connection().execute(
            "UPDATE jobs SET due_at = ?, claimed_until = NULL, last_error = ?, done = ?"
            " WHERE id = ? AND claimed_by = ?",
            (due_at, mask_card_numbers(error[:2000]), 2 if give_up else 0, job_id, owner))

    def reschedule_job(self, kind: str, ref: str, due_at: float) -> None:
        self.connection().execute(
            "UPDATE jobs SET due_at = ?, done = 0 WHERE kind = ? AND ref = ?", (due_at, kind, ref))

    def cancel_jobs(self, kind: str, ref_prefix: str) -> int:
        """Mark pending jobs done, e.g. every reminder of a win once it is paid."""
        cursor = self.connection().execute(
            "UPDATE jobs SET done = 1 WHERE kind = ? AND ref LIKE ? AND done = 0",
            (kind, f"{ref_prefix}%"))
        return cursor.rowcount

    def pending_jobs(self, kind: str | None = None) -> list[Job]:
        where = "AND kind = ?" if kind else ""
        rows = self._all_rows(
            f"SELECT id, kind, ref, due_at, attempts, claimed_by FROM jobs WHERE done = 0"
            f" {where} ORDER BY due_at, id", *([kind] if kind else []))
        return [Job(**dict(row)) for row in rows]

    def replace_job(self, kind: str, ref: str, due_at: float, at: int) -> None:
        """Add the job, or set an existing one (even done or canceled) due again."""
        self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at, done = 0,"
            " attempts = 0, claimed_until = NULL, last_error = NULL", (kind, ref, due_at, at))

    def release_job_claims(self, owner: str | None = None) -> int:
        """Leases of processes that are gone: every one (at start-up, with the instance
        lock held), or those of one owner."""
        only = "AND claimed_by = ?" if owner is not None else ""
        cursor = self.connection().execute(
            "UPDATE jobs SET claimed_until = NULL WHERE done = 0 AND claimed_until IS NOT NULL"
            f" {only}", (owner,) if owner is not None else ())
        return cursor.rowcount

    def job_claim_owners(self, lease_now: float) -> list[str]:
        """Who holds a live lease on a pending job."""
        rows = self._all_rows("SELECT DISTINCT claimed_by FROM jobs WHERE done = 0"
                              " AND claimed_until > ? AND claimed_by IS NOT NULL", lease_now)
        return [str(row[0]) for row in rows]

    def schedule_job_now(self, kind: str, ref: str, due_at: float, at: int) -> None:
        """Add the job, or bring an existing one (done or not) forward to ``due_at``."""
        self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO UPDATE SET due_at = MIN(excluded.due_at,"
            " CASE WHEN done = 0 THEN due_at ELSE excluded.due_at END), done = 0",
            (kind, ref, due_at, at))

    def held_due_jobs(self, now: float, lease_now: float) -> int:
        """Jobs due by ``now`` that a worker holds a live lease on (running them now)."""
        row = self._one("SELECT COUNT(*) FROM jobs WHERE done = 0 AND due_at <= ?"
                        " AND claimed_until > ?", now, lease_now)
        return int(row[0]) if row else 0

    def next_job_due(self, *, except_kinds: tuple[str, ...] = ()) -> float | None:
        marks = ", ".join("?" for _ in except_kinds)
        where = f"AND kind NOT IN ({marks})" if except_kinds else ""
        row = self._one(f"SELECT MIN(due_at) FROM jobs WHERE done = 0 {where}", *except_kinds)
        return float(row[0]) if row and row[0] is not None else None
