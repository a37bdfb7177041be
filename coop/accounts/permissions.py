"""Who may call what: role checks for routes and per-object checks for services."""
from functools import wraps

from flask_login import current_user

from coop.errors import Forbidden, Unauthorized

ROLE_MESSAGES = {
    "member": "Only members can do this; become one with POST /api/v1/membership.",
    "coordinator": "Only coordinators can do this.",
    "requester": "Only requester accounts can do this.",
    "worker": "Only worker accounts can do this.",
}


def has_role(user, role: str) -> bool:
    if role == "authenticated":
        return True
    if role == "member":
        return user.is_member
    if role == "coordinator":
        return user.is_coordinator and user.is_member
    if role == "requester":
        return user.kind == "requester"
    if role == "worker":
        return user.kind == "worker"
    raise ValueError(f"unknown role {role!r}")


def authenticated_user():
    """The signed-in user, or Unauthorized."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    return current_user._get_current_object()


def require(*roles: str):
    """Route decorator: signed in, and holding at least one of `roles` (any role when none given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticated_user()
            if roles and not any(has_role(user, r) for r in roles):
                raise Forbidden(ROLE_MESSAGES.get(roles[0], "You are not allowed to do this."))
            return view(*args, **kwargs)

        # Read by the OpenAPI plugin to document who may call the route (and that it is not public).
        wrapper.required_roles = roles
        return wrapper

    return decorator


def ensure(condition: bool, message: str) -> None:
    """Per-object check: refuse with 403 unless `condition` holds."""
    if not condition:
        raise Forbidden(message)
