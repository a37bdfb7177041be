"""Entry point for gunicorn and `flask run`: `gunicorn wsgi:app`."""

from coop import create_app

app = create_app()
