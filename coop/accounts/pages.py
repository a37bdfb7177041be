"""Account pages: the public landing page, register, sign in and sign out."""

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from coop.accounts import services
from coop.accounts.auth import close_browser_session, open_browser_session
from coop.accounts.routes import auth_limits
from coop.accounts.schemas import RegisterSchema
from coop.pages import attempt, done, go, pages_blueprint, render, signed_in, validated

bp = pages_blueprint("accounts", __name__)


def nav(user) -> list[tuple[str, str]]:
    if user.is_authenticated:
        return []
    return [("accounts_pages.sign_in", _l("Sign in")), ("accounts_pages.register", _l("Join"))]


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class RegisterForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()], description=_l("At least 12 characters."))
    display_name = StringField(
        _l("Pseudonym"),
        validators=[DataRequired()],
        description=_l("Everyone else sees this name; your email is never shown to others."),
    )
    kind = RadioField(
        _l("I join as"),
        choices=[SelectChoice("worker", _l("a worker")), SelectChoice("requester", _l("a requester posting work"))],
        default="worker",
    )
    organization = StringField(_l("Organisation (requesters)"), validators=[Optional(), Length(max=200)])


def _next_page() -> str:
    # Only a path on this site: an absolute URL in ?next= would make the sign-in page an open redirect.
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("accounts_pages.landing")


@bp.route("/")
def landing():
    """What the coop is, for anyone; the way in to your own pages once signed in."""
    return render("accounts/landing.html")


@bp.route("/sign-in", methods=["GET", "POST"])
@auth_limits
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        ok, user = attempt(form, lambda: services.authenticate(form.email.data, form.password.data))
        if ok:
            open_browser_session(user)
            return go(_next_page())
    return render("accounts/sign_in.html", 422 if form.is_submitted() else 200, form=form)


@bp.route("/sign-out", methods=["POST"])
@signed_in
def sign_out():
    close_browser_session()
    return done("accounts_pages.landing")


@bp.route("/register", methods=["GET", "POST"])
@auth_limits
def register():
    form = RegisterForm()
    if form.is_submitted():
        data = validated(form, RegisterSchema())
        if data is not None:
            ok, user = attempt(form, lambda: services.register(**data))
            if ok:
                open_browser_session(user)
                return done("accounts_pages.landing", _l("Welcome to the coop, %(name)s.", name=user.display_name))
    return render("accounts/register.html", 422 if form.is_submitted() else 200, form=form)
