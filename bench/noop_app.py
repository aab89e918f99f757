"""The baseline of bench_form.py: a Flask app whose only endpoint does nothing."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/noop")
    def noop() -> str:
        return "ok"

    return app
