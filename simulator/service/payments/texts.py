"""Text messages to buyers: queued beside the mail for the same moments (a payment
received, a reminder), in the same transaction, and sent after the commit by their own
durable job, so a provider that is down delays a text and never a payment. A failed
try is recorded on the message (attempts, last error) and retried by the scheduler
with backoff; a number the provider refuses for good is marked failed and alerted."""

from __future__ import annotations

from simulator.service.adapters.sms import OutboxSmsProvider, SmsNotSent
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.domain.jobs import Job
from simulator.service.domain.notification import TextMessage
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.ports import SmsSender

SEND_SMS = "send_sms"


def text_records(ctx: PaymentContext) -> TextMessageRecords:
    return ctx.repo.text_messages


def queue_text(ctx: PaymentContext, message: TextMessage, now: float) -> int | None:
    """Joins the caller's transaction; the send job's id (None if already queued)."""
    sms_id = text_records(ctx).queue(message, int(now))
    return ctx.scheduler.schedule(SEND_SMS, str(sms_id), now) if sms_id else None


def sms_provider(ctx: PaymentContext) -> SmsSender | None:
    return OutboxSmsProvider.from_config(ctx.config, ctx.clock)


def send_text(ctx: PaymentContext, job: Job) -> float | None:
    records = text_records(ctx)
    queued = records.get(int(job.ref))
    provider = sms_provider(ctx)
    if queued is None or queued.status != "pending" or provider is None:
        return None  # without a provider the text stays queued, visible to an admin
    try:
        provider_id = provider.send(queued.to, queued.text)
    except SmsNotSent as error:
        with ctx.repo.transaction():
            records.mark_failed(queued.id, str(error), error.permanent)
        if error.permanent:
            ctx.alert("sms_failed", "warning", f"Text message {queued.id} refused: {error}",
                      subject_id=str(queued.id), quiet=0)
            return None
        raise  # the scheduler retries with backoff
    with ctx.repo.transaction():
        records.mark_sent(queued.id, provider_id, ctx.clock.timestamp())
    return None
