"""Who may call what: role checks for routes and per-object checks for services."""

from functools import wraps

from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, current_user

from coop.errors import Forbidden, Unauthorized

ROLE_MESSAGES = {
    "member": _l("Only members can do this; become one with POST /api/v1/membership."),
    "coordinator": _l("Only coordinators can do this."),
    "requester": _l("Only requester accounts can do this."),
    "worker": _l("Only worker accounts can do this."),
}


class Visitor(AnonymousUserMixin):
    """Someone not signed in, reading what is public: holds no role and owns nothing."""

    id = None
    kind = None
    is_member = False
    is_coordinator = False
    is_requester = False


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
    # One look through Flask-Login's proxy (every signed-in route asks, some twice).
    user = current_user._get_current_object()
    if not user.is_authenticated:
        raise Unauthorized()
    return user


def current_viewer():
    """Whoever is calling a public route: the signed-in user, or a `Visitor`."""
    return current_user._get_current_object()


def refusal(user, roles: tuple[str, ...]) -> str:
    """Why `user` may not do what needs one of `roles`, naming the way in open to their kind of account."""
    # A worker refused something members and requesters may do is told to join, not that it is for requesters.
    reachable = [r for r in roles if r not in ("requester", "worker") or r == user.kind]
    return str(ROLE_MESSAGES.get((reachable or roles)[0], _l("You are not allowed to do this.")))


def require(*roles: str):
    """Route decorator: signed in, and holding at least one of `roles` (any role when none given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticated_user()
            if roles and not any(has_role(user, r) for r in roles):
                raise Forbidden(refusal(user, roles))
            return view(*args, **kwargs)

        # Read by the OpenAPI plugin to document who may call the route (and that it is not public).
        wrapper.required_roles = roles
        return wrapper

    return decorator


def ensure(condition: bool, message: str) -> None:
    """Per-object check: refuse with 403 unless `condition` holds."""
    if not condition:
        raise Forbidden(message)
