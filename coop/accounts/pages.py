"""Account pages: landing, register, sign in and out, email verification, password change and reset, the account."""

from flask import g, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from coop import mail
from coop.accounts import services
from coop.accounts.auth import close_browser_session, open_browser_session
from coop.accounts.permissions import authenticated_user
from coop.accounts.routes import auth_limits, link_limits, password_limits
from coop.accounts.schemas import NewPasswordFormSchema, PasswordChangeSchema, RegisterSchema
from coop.pages import attempt, done, go, pages_blueprint, render, signed_in, validated

bp = pages_blueprint("accounts", __name__)


def nav(user) -> list[tuple[str, str]]:
    if user.is_authenticated:
        return [("accounts_pages.account", _l("Account"))]
    return [("accounts_pages.sign_in", _l("Sign in")), ("accounts_pages.register", _l("Join"))]


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class RegisterForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()], description=_l("At least 10 characters."))
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
            ok, user = attempt(form, lambda: services.open_account(**data))
            if ok:
                open_browser_session(user)
                welcome = _("Welcome to the coop, %(name)s.", name=user.display_name)
                if user.email_verified_at is None and mail.enabled():
                    welcome += " " + _(
                        "We sent a link to %(email)s: follow it to verify your address.", email=user.email
                    )
                return done("accounts_pages.landing", welcome)
    return render("accounts/register.html", 422 if form.is_submitted() else 200, form=form)


# --- emailed links, password and account --------------------------------------------------

LINK_REFUSALS = {
    "unknown": _l("This link is not one we sent, or a newer one replaced it."),
    "used": _l("This link was already used; each link works once."),
    "expired": _l("This link has expired."),
}


def _link_refused(exc: services.LinkRefused, again: str) -> None:
    g.form_error = f"{LINK_REFUSALS[exc.reason]} {again}"
    g.form_error_details = []


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=200)])


class EmailForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=1024)], description=_l("At least 10 characters.")
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ; type the same twice."))],
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=1024)], description=_l("At least 10 characters.")
    )


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language of pages and emails"),
        choices=[
            SelectChoice("", _l("As my browser asks")),
            SelectChoice("en", "English"),
            SelectChoice("fr", "Français"),
        ],
    )


@bp.route("/verify-email", methods=["GET", "POST"])
@link_limits
def verify_email():
    """Confirm an emailed verification link with a button: mail scanners follow links but press no buttons."""
    form = ConfirmForm(token=request.args.get("token", ""))
    if form.is_submitted():
        if form.validate():
            try:
                services.verify_email(form.token.data)
            except services.LinkRefused as exc:
                _link_refused(exc, _("Sign in and ask for a new link on your account page."))
            else:
                target = "accounts_pages.account" if current_user.is_authenticated else "accounts_pages.sign_in"
                return done(target, _("Your email address is verified. Thank you."))
        return render("accounts/verify_email.html", 422, form=form)
    return render("accounts/verify_email.html", form=form)


@bp.route("/password-reset", methods=["GET", "POST"])
@auth_limits
def password_reset():
    form = EmailForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return done(
            "accounts_pages.sign_in",
            _(
                "If an account uses this address, a link to choose a new password is on its way. It works once, for one hour."
            ),
        )
    return render("accounts/password_reset.html", 422 if form.is_submitted() else 200, form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@link_limits
def password_reset_confirm(token):
    form = NewPasswordForm()
    if form.is_submitted():
        data = validated(form, NewPasswordFormSchema())
        if data is not None:
            try:
                services.reset_password(token, form.password.data)
            except services.LinkRefused as exc:
                _link_refused(exc, _("Ask for a new one below."))
            else:
                close_browser_session()
                return done("accounts_pages.sign_in", _("Your password is changed. Sign in with it."))
        return render("accounts/password_reset_confirm.html", 422, form=form)
    return render("accounts/password_reset_confirm.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account():
    """The signed-in person's own account: pseudonym, language, email verification."""
    user = authenticated_user()
    form = LanguageForm(locale=user.locale or "")
    if form.validate_on_submit():
        services.update_profile(user, {"locale": form.locale.data or None})
        return done("accounts_pages.account", _("Your language is saved."))
    return render(
        "accounts/account.html",
        422 if form.is_submitted() else 200,
        form=form,
        user=user,
        email_on=mail.enabled(),
    )


@bp.route("/account/verify-email", methods=["POST"])
@signed_in
@password_limits
def resend_verification():
    ok, user = attempt(None, lambda: services.resend_verification(authenticated_user()))
    if not ok:
        return render(
            "accounts/account.html", 409, form=LanguageForm(), user=authenticated_user(), email_on=mail.enabled()
        )
    return done("accounts_pages.account", _("A new link is on its way to %(email)s.", email=user.email))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
@password_limits
def change_password():
    form = PasswordChangeForm()
    if form.is_submitted():
        data = validated(form, PasswordChangeSchema())
        if data is not None:
            ok, _result = attempt(
                form,
                lambda: services.change_password(
                    authenticated_user(),
                    data["current_password"],
                    data["new_password"],
                    keep_session_id=session.get(services.SESSION_ID_KEY),
                ),
            )
            if ok:
                return done("accounts_pages.account", _("Your password is changed; your other devices are signed out."))
        return render("accounts/password.html", 422, form=form)
    return render("accounts/password.html", form=form)
