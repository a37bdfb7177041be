"""Forum routes."""
from flask_smorest import Blueprint

blp = Blueprint("forum", __name__, url_prefix="/api/v1", description="Forum")
