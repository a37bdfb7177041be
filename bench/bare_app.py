"""The framework ceiling: a bare Flask JSON endpoint, served by the same gunicorn as the API."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/claim")
def claim():
    return jsonify({"id": 1, "status": "claimed"}), 201


@app.post("/submit")
def submit():
    return jsonify({"id": 1, "status": "submitted"})
