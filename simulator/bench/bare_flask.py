"""The yardstick for the webhook endpoint: a Flask app that reads a POST's body and
answers 200 ``ok`` (at the webhook path, and at any ``/v1/…`` path and method as the yardstick for
the sandbox), served exactly as the payment service is (``simulator.cli.serve``:
gunicorn, the same workers and threads). Whatever the service's endpoint costs beyond
this is the cost of its own work: verify, store, dispatch.

    python -m simulator.bench.bare_flask --port 8600 --workers 2 --threads 4
"""

from __future__ import annotations

import argparse

from flask import Flask, Response, request

from simulator.service.web.webhooks import WEBHOOK_PATH


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post(WEBHOOK_PATH)
    @app.route("/v1/<path:_>", methods=["GET", "POST", "DELETE"])
    def receive(_: str = "") -> Response:
        request.get_data(cache=False)
        return Response("ok", mimetype="text/plain")

    @app.get("/health")
    def health() -> Response:
        return Response("ok", mimetype="text/plain")

    return app


def main(argv: list[str] | None = None) -> int:
    from simulator.cli.serve import serve

    parser = argparse.ArgumentParser(prog="python -m simulator.bench.bare_flask",
                                     description="A bare Flask POST endpoint under gunicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    serve(create_app, args.host, args.port, args.workers, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
