"""Counting stripe-python's own suite: outcomes and which tests are on implemented resources."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from simulator.bench import stripe_python_suite as suite

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.test_generated_examples.TestGeneratedExamples"
          name="test_payment_intents_post"/>
<testcase classname="tests.test_generated_examples.TestGeneratedExamples"
          name="test_customers_search_get"><failure message="404"/></testcase>
<testcase classname="tests.test_generated_examples.TestGeneratedExamples"
          name="test_accounts_post"><failure message="404"/></testcase>
<testcase classname="tests.api_resources.test_customer.TestCustomer"
          name="test_is_listable"><error message="boom"/></testcase>
<testcase classname="tests.api_resources.checkout.test_session.TestSession"
          name="test_is_creatable"/>
<testcase classname="tests.api_resources.test_account.TestAccount" name="test_x"/>
<testcase classname="tests.test_http_client.TestClient" name="test_y">
  <skipped message="no aiohttp"/></testcase>
</testsuite></testsuites>
"""
GROUPS = {"payment_intents", "customers", "checkout/sessions"}


def test_outcomes_are_counted_overall_and_on_implemented_resources(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT, encoding="utf-8")
    result = suite.count(junit, GROUPS)
    assert (result.overall.passed, result.overall.failed, result.overall.errors,
            result.overall.skipped) == (3, 2, 1, 1)
    assert (result.implemented.passed, result.implemented.failed,
            result.implemented.errors) == (2, 1, 1)
    table = suite.render(result, "16.1.0")
    assert "overall" in table and "implemented resources" in table


@pytest.mark.parametrize(("classname", "name", "expected"), [
    ("tests.test_generated_examples.T", "test_checkout_sessions_get", True),
    ("tests.test_generated_examples.T", "test_accounts_get", False),
    ("tests.api_resources.test_customer.TestCustomer", "test_anything", True),
    ("tests.api_resources.test_invoice.TestInvoice", "test_anything", False),
    ("tests.test_stripe_object.TestStripeObject", "test_customers_post", False),
])
def test_which_tests_are_on_implemented_resources(classname: str, name: str,
                                                  expected: bool) -> None:
    assert suite.on_implemented(classname, name, GROUPS) is expected


def test_the_sdist_is_unpacked_and_needs_a_tests_folder(tmp_path: Path) -> None:
    source = tmp_path / "stripe-0.0.0"
    (source / "tests").mkdir(parents=True)
    sdist = tmp_path / "stripe-0.0.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(source, arcname="stripe-0.0.0")
    assert suite.unpack(sdist, tmp_path / "out") == tmp_path / "out" / "stripe-0.0.0"
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(FileNotFoundError):
        suite.unpack(empty, tmp_path / "none")


def test_a_cached_sdist_is_not_downloaded_again(tmp_path: Path) -> None:
    cached = tmp_path / "stripe-9.9.9.tar.gz"
    cached.write_bytes(b"")
    assert suite.download_sdist("9.9.9", tmp_path) == cached
