"""Shared fixtures: the seed notebook's examples and the hostile corpus, kept verbatim in
tests/data so the suite runs anywhere (they are copies of shared/reference)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Under CI the property tests draw the same examples on every run (a landing must not depend
# on luck); on a developer's machine they explore new ones each time and keep failures in
# .hypothesis to replay.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"


def load_json(name: str):
    """A JSON file from tests/data."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


SEED_EXAMPLES = load_json("seed_examples.json")["examples"]


@pytest.fixture(params=SEED_EXAMPLES, ids=[e["title"].split(":")[0] for e in SEED_EXAMPLES])
def seed_example(request):
    """Each of the seed notebook's four examples, with its reference values."""
    return request.param


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test is a failure: a tool the tests need (Graphviz, poppler) must
    be installed by the set-up, never silently missing."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {report.longrepr}"
