"""Shared test set-up: telemetry off, and the real assistant for tests marked e2e.

Tests marked `e2e` get the `assistant_services` fixture: it starts the action server, the Rasa server
(with the model trained from this repo) and the gateway through scripts/run_services.sh — the script
`make run` uses — once per session, and stops them afterwards. When RASA_E2E_URL already points at a
running assistant (a developer's `make run`), that one is used instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from scripts.services import RunningAssistant, reachable, running_assistant  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("e2e") and "assistant_services" not in item.fixturenames:
            item.fixturenames.insert(0, "assistant_services")


@pytest.fixture(scope="session")
def assistant_services():
    """The running assistant as a dict: rasa_url, rasa_token, gateway_url."""
    existing = os.environ.get("RASA_E2E_URL")
    if existing and reachable(f"{existing}/"):
        running = RunningAssistant(
            existing,
            os.environ.get("RASA_TOKEN", ""),
            os.environ.get("GATEWAY_E2E_URL", "http://127.0.0.1:8080"),
        )
        yield running.__dict__
        return
    model = Path(os.environ.get("MODELS_DIR", ROOT / "models")) / "assistant.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does)")
    # LOG_DIR (also the home of the run's databases) lets several checkouts or developers run e2e side by side
    log_dir = Path(os.environ.get("LOG_DIR", ROOT / "var/log")) / "e2e"
    with running_assistant("e2e-test-token", log_dir) as running:
        os.environ["RASA_E2E_URL"] = running.rasa_url
        os.environ["GATEWAY_E2E_URL"] = running.gateway_url
        yield running.__dict__
