"""Driver statements: the hot paths' SQL run on the driver, behaving as the ORM's execution would."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from coop import driver, unit_of_work
from coop.accounts.models import ApiToken, User
from coop.driver import DriverStatement, _native_placeholders
from coop.extensions import db
from coop.forum.models import Post


def _users_by_email():
    return DriverStatement(
        sa.select(User.id, User.email, User.created_at, User.is_member).where(
            User.email == sa.bindparam("email", type_=User.email.type)
        )
    )


def test_rows_come_back_with_their_columns_types(make):
    member = make.member()
    row = _users_by_email().first_mapping({"email": member.email})
    assert row == {"id": member.id, "email": member.email, "created_at": member.created_at, "is_member": True}
    # UTCDateTime reads back aware on both databases, as through the ORM.
    assert row["created_at"].tzinfo is UTC and row["is_member"] is True
    assert _users_by_email().first({"email": "nobody@coop.test"}) is None


def test_fixed_values_in_the_statement_are_bound_too(make):
    member, worker = make.member(), make.worker()
    members = DriverStatement(sa.select(User.id).where(User.is_member.is_(True), User.kind == "worker"))
    found = {row[0] for row in members.all()}
    assert member.id in found and worker.id not in found


def test_pending_changes_are_flushed_before_it_runs(make):
    member = make.member()
    member.display_name = "Renamed before the read"
    statement = DriverStatement(sa.select(User.display_name).where(User.id == sa.bindparam("id")))
    assert statement.first({"id": member.id}) == ("Renamed before the read",)


def test_listeners_hear_it_like_any_statement(make, count_queries):
    member = make.member()
    with count_queries() as counted:
        _users_by_email().first({"email": member.email})
    assert counted.count == 1


def test_a_value_it_needs_must_be_given(session):
    with pytest.raises(KeyError, match="email"):
        _users_by_email().first({})


def test_in_lists_are_refused_for_arrays(session):
    statement = DriverStatement(sa.select(User.id).where(User.id.in_(sa.bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="array"):
        statement.all({"ids": [1]})


def test_driver_errors_become_sqlalchemys(make):
    member = make.member()
    duplicate = DriverStatement(
        sa.insert(User)
        .values(
            email=sa.bindparam("email"),
            display_name="Someone else",
            kind="worker",
            password_hash="x",
            is_member=False,
            is_coordinator=False,
            created_at=datetime.now(UTC),
        )
        .returning(User.id)
    )
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        duplicate.first({"email": member.email})


def test_a_lock_held_elsewhere_is_a_busy_database(app, committed, postgres_only):
    """A lock the statement waits on past lock_timeout is told apart as BUSY, as on the ORM path."""
    user = User(email="locked@coop.test", display_name="Locked", kind="worker", password_hash="x")
    db.session.add(user)
    db.session.commit()
    holder = db.engine.connect()
    holder.execute(sa.text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user.id})
    try:
        db.session.execute(sa.text("SET LOCAL lock_timeout = '50ms'"))
        locking = DriverStatement(sa.select(User.id).where(User.id == sa.bindparam("id")).with_for_update())
        with pytest.raises(sa.exc.OperationalError) as refused:
            locking.first({"id": user.id})
        assert unit_of_work.classify(refused.value) == unit_of_work.BUSY
    finally:
        db.session.rollback()
        holder.rollback()
        holder.close()


def test_native_placeholders_number_each_name_once():
    sql, order = _native_placeholders("a = %(x)s AND b LIKE 'p%%' AND c = %(y)s AND d = %(x)s")
    assert sql == "a = $1 AND b LIKE 'p%' AND c = $2 AND d = $1"
    assert order == ("x", "y")


# --- loading objects ----------------------------------------------------------------------


def test_get_loads_a_plain_model_as_persistent_and_clean(make, count_queries):
    member = make.member()
    db.session.expunge_all()
    loaded = driver.get(User, member.id)
    assert loaded is not None and loaded.email == member.email and loaded.created_at.tzinfo is UTC
    assert sa.inspect(loaded).persistent and not db.session.dirty
    with count_queries() as counted:
        db.session.flush()
        assert driver.get(User, member.id) is loaded  # the session's own copy, no query
    assert counted.count == 0
    loaded.display_name = "Changed after loading"
    db.session.flush()
    db.session.expunge_all()
    assert db.session.get(User, member.id).display_name == "Changed after loading"


def test_get_of_a_missing_row_is_none(session):
    assert driver.get(User, 987_654) is None


def test_models_with_eager_relationships_are_left_to_the_orm(make):
    assert driver._by_id(Post, False) is None
    assert driver._by_id(User, False) is not None and driver._by_id(ApiToken, True) is not None


def test_as_loaded_updates_an_object_the_session_holds(make):
    member = make.member()
    row = {column.name: getattr(member, column.key) for column in User.__table__.c}
    again = driver.as_loaded(User, {**row, "display_name": "Read just now"})
    assert again is member and member.display_name == "Read just now"
    assert not db.session.dirty


def test_as_loaded_objects_load_relationships_and_expire_like_queried_ones(make, count_queries):
    from coop.accounts.services import issue_token

    token, _plain = issue_token(make.member(), "laptop")
    row = {column.name: getattr(token, column.key) for column in ApiToken.__table__.c}
    owner_id = token.user_id
    db.session.flush()
    db.session.expunge_all()
    loaded = driver.as_loaded(ApiToken, row)
    assert sa.inspect(loaded).persistent and loaded in db.session and not db.session.dirty
    with count_queries() as counted:
        assert loaded.user.id == owner_id  # the relationship is loaded on first use
    assert counted.count == 1
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == loaded.id).values(name="renamed elsewhere"))
    db.session.expire(loaded)
    assert loaded.name == "renamed elsewhere"
