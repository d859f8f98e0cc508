"""The official Node SDK (npm ``stripe``) against the sandbox: tests/node/smoke.mjs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.servers import RunningServer

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
pytestmark = pytest.mark.node


def _locked_stripe_version() -> str:
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/stripe"]["version"])


def _installed_stripe_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "stripe" / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


@pytest.fixture(scope="module")
def node_sdk() -> str:
    """The path to ``node``, with tests/node/node_modules installed from the lock file
    (once; later runs reuse it while the locked version matches)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the Node SDK smoke test needs `node` and `npm` on PATH")
    if _installed_stripe_version() != _locked_stripe_version():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR, capture_output=True, text=True, timeout=300, check=False,
        )
        if result.returncode != 0:
            pytest.skip("`npm ci` failed (is the npm registry reachable?):\n"
                        + result.stderr[-2000:])
    return node


def test_node_sdk_smoke(node_sdk: str, sandbox_server: RunningServer) -> None:
    env = {
        **os.environ,
        "STRIPE_API_BASE": sandbox_server.url.removeprefix("http://"),
        "STRIPE_API_KEY": "sk_test_node_smoke",
    }
    result = subprocess.run(
        [node_sdk, "smoke.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert result.stdout.strip(), f"no summary printed; stderr:\n{result.stderr}"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    failed = [check for check in summary["checks"] if not check["ok"]]
    assert result.returncode == 0 and summary["ok"], f"failed checks: {failed}\n{result.stderr}"
    names = {check["name"] for check in summary["checks"]}
    assert {"customer.create", "customer.list", "error.resource_missing"} <= names
    assert summary["sdk"] == _locked_stripe_version()
