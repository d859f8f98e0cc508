"""``stripe-sim bench sandbox`` and ``bench webhooks`` from the command line: the
figures side by side with their ratio, and plans that cannot run refused up front."""

from __future__ import annotations

import pytest

from simulator.__main__ import main


def test_a_sandbox_without_targets_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sandbox"]) == 2
    assert "give at least one --base-url or --start" in capsys.readouterr().err


def test_an_unknown_workload_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sandbox", "--start", "1x2", "--workloads", "refund-all"]) == 2
    assert "unknown workloads ['refund-all']" in capsys.readouterr().err


@pytest.mark.slow
def test_the_sandbox_is_measured_beside_the_bare_endpoint(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "sandbox", "--start", "1x2", "--bare", "1x2", "--workloads",
                 "create-customer", "--concurrency", "2", "--duration", "1", "--warmup", "0"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "requests/s relative to bare flask:" in out
    assert "sandbox 1w x 2t" in out.split("requests/s relative to bare flask:")[1]


@pytest.mark.slow
def test_webhook_deliveries_are_timed(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "webhooks", "--start", "1x2", "--events", "10",
                 "--concurrency", "2", "--source", "customer"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "webhooks delivered" in out and "event→delivery p50" in out
