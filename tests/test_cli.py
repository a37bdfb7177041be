"""The `flask coop` commands."""

import sqlalchemy as sa

from coop.audit import AuditEntry
from coop.forum.models import Board
from coop.governance.models import RuleVersion, TermsVersion


def counts(session):
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (TermsVersion, RuleVersion, Board, AuditEntry)
    )


def test_init_is_idempotent(app, session):
    runner = app.test_cli_runner()
    before = counts(session)
    result = runner.invoke(args=["coop", "init"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    assert counts(session) == before
    assert before[:3] == (1, 3, 3)


def test_init_creates_founding_terms_rules_and_boards(app, session):
    session.execute(sa.delete(TermsVersion))
    session.execute(sa.delete(RuleVersion))
    session.execute(sa.delete(Board))
    result = app.test_cli_runner().invoke(args=["coop", "init"])
    assert result.exit_code == 0, result.output
    terms = session.get(TermsVersion, 1)
    assert terms.params["min_hourly_rate_cents"] == 1300 and terms.params["banned_purposes"] == ["fake_engagement"]
    assert {r.slug for r in session.scalars(sa.select(RuleVersion))} == {"bylaws", "forum-rules", "marketplace-code"}
    assert {(b.slug, b.visibility) for b in session.scalars(sa.select(Board))} == {
        ("members", "members"),
        ("public", "public"),
        ("proposals", "members"),
    }


def test_create_coordinator_makes_a_member_with_one_share(app, make, session):
    user = make.worker("Founder")
    result = app.test_cli_runner().invoke(args=["coop", "create-coordinator", user.email])
    assert result.exit_code == 0, result.output
    session.refresh(user)
    assert user.is_member and user.is_coordinator
    from coop import ledger

    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == 2500


def test_create_coordinator_records_the_founders_share_under_the_reference_given(app, make, session):
    from coop import ledger
    from coop.governance.models import Membership, ShareLine

    named, default = make.worker("Named Founder"), make.worker("Default Founder")
    external = ledger.balance(ledger.EXTERNAL)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coop", "create-coordinator", named.email, "--payment-reference", "SEPA 0001"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["coop", "create-coordinator", default.email]).exit_code == 0

    lines = session.execute(
        sa.select(ShareLine.user_id, ShareLine.amount_cents, ShareLine.payment_reference)
        .where(ShareLine.user_id.in_([named.id, default.id]))
        .order_by(ShareLine.id)
    ).all()
    assert lines == [(named.id, 2500, "SEPA 0001"), (default.id, 2500, "founding")]
    assert session.get(Membership, named.id).share_paid_cents == 2500
    assert ledger.balance(ledger.EXTERNAL) == external - 5000
    admitted = session.scalar(
        sa.select(AuditEntry).where(AuditEntry.event == "membership.admitted", AuditEntry.subject == f"user:{named.id}")
    )
    assert admitted.actor == "founding" and admitted.payload["payment_reference"] == "SEPA 0001"


def test_create_coordinator_refuses_a_blank_payment_reference(app, make, session):
    user = make.worker()
    result = app.test_cli_runner().invoke(args=["coop", "create-coordinator", user.email, "--payment-reference", " "])
    assert result.exit_code == 2 and "--payment-reference" in result.output
    session.refresh(user)
    assert not user.is_member


def test_create_coordinator_for_unknown_email_fails(app, session):
    result = app.test_cli_runner().invoke(args=["coop", "create-coordinator", "ghost@example.org"])
    assert result.exit_code == 1
    assert "register it first" in result.output


def test_verify_audit_exits_nonzero_naming_the_tampered_entry(app, session):
    from coop import audit

    audit.append("test.cli", "x", None, {"v": 1})
    session.commit()
    entry = session.scalar(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["coop", "verify-audit"]).exit_code == 0
    session.execute(sa.update(AuditEntry).where(AuditEntry.seq == entry.seq).values(subject="y"))
    result = runner.invoke(args=["coop", "verify-audit"])
    assert result.exit_code == 1
    assert f"entry {entry.seq}" in result.output


def test_tick_runs(app, session):
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert result.exit_code == 0 and "tick done" in result.output


def test_seed_demo_builds_a_working_coop_once(app, session):
    from coop import ledger
    from coop.governance.models import Proposal
    from coop.marketplace.models import Batch

    runner = app.test_cli_runner()
    result = runner.invoke(args=["coop", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.status == "open")) == 7
    batches = session.scalars(sa.select(Batch)).all()
    assert {b.status for b in batches} == {"open", "pilot"} and all(b.escrow_cents > 0 for b in batches)
    assert ledger.total_of_all_entries() == 0
    again = runner.invoke(args=["coop", "seed-demo"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Batch)) == 3


def test_seed_demo_records_the_founders_shares_under_the_reference_given(app, session):
    from coop import ledger
    from coop.governance.models import ShareLine

    result = app.test_cli_runner().invoke(args=["coop", "seed-demo", "--payment-reference", "DEMO-SEPA-7"])
    assert result.exit_code == 0, result.output
    lines = session.execute(sa.select(ShareLine.amount_cents, ShareLine.payment_reference)).all()
    assert lines == [(2500, "DEMO-SEPA-7")] * 5
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == 5 * 2500
