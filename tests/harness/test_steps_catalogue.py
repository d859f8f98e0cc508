"""The README's list of steps is generated, and kept current by this test."""

from __future__ import annotations

from pathlib import Path

from harness.steps_catalogue import catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "steps.md"


def test_docs_steps_md_lists_every_step_as_the_step_modules_define_them() -> None:
    assert DOC.read_text() == catalogue(), (
        "docs/steps.md is stale: run `python -m harness.steps_catalogue > docs/steps.md`")


def test_the_catalogue_names_steps_of_every_area() -> None:
    text = catalogue()
    assert "## common" in text and "## checkout" in text
    assert "- **Given** a buyer has won a lot over $500" in text
