"""The framework ceiling: a bare Flask JSON endpoint, served by the same gunicorn as the API."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/claim")
def claim():
    request.get_json()  # read the body, as the API does
    return jsonify({"id": 1, "status": "claimed"}), 201


@app.post("/submit")
def submit():
    request.get_json()
    return jsonify({"id": 1, "status": "submitted"})
