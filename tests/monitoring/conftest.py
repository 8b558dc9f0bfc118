"""Fixtures of the monitoring tests: a real webhook receiver on loopback, and a workspace with a
champion trained by the real training flow."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flows.training import training_flow
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario

MODEL = "e2e-monitoring"

# The secret part of a Slack-like webhook URL: it must never show in logs, errors or parameters.
TOKEN = "s3cr3t-t0ken"


@dataclass
class Webhook:
    """A webhook receiver on 127.0.0.1: what it was sent, and the status it answers with."""

    url: str
    status: int = 200
    received: list[dict] = field(default_factory=list)
    token: str = TOKEN


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook at http://127.0.0.1:<port>/services/... (a token in its path)."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            hook.received.append({
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "json": json.loads(self.rfile.read(length)),
            })
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0NIDS/{TOKEN}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def workspace(prefect_api, small_training_config, tmp_path_factory: pytest.TempPathFactory):
    """A champion (model 'e2e-monitoring' in the folder's own MLflow store) trained on
    Monday-Wednesday, and three batches of new traffic: 01-reference-days, 02-thursday,
    03-friday (3,000 rows each). Yields (folder, training config, batches by name)."""
    folder = tmp_path_factory.mktemp("monitoring")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        training = small_training_config(folder, MODEL)
        first = training.model_copy(deep=True)
        first.data.days = ["Monday", "Tuesday", "Wednesday"]
        training_flow(config=first, reason="first model")
        traffic = generate_dataset(folder / "traffic", 20_000, seed=99)
        frame = load_inputs(traffic, folder / "interim", verify=False).frame
        batches = scenario.write_batches(frame, folder / "batches", 3_000, seed=5)
        yield folder, training, {p.stem: p for p in batches}
