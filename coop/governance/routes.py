"""Governance routes."""
from flask_smorest import Blueprint

blp = Blueprint("governance", __name__, url_prefix="/api/v1", description="Governance")
