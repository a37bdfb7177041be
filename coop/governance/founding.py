"""Starter texts of the rule documents adopted at founding."""

FOUNDING_RULES = {
    "bylaws": (
        "Bylaws of the Coop",
        """# Bylaws

1. **Purpose.** The Coop is a platform cooperative owned by the people who do micro-task
   work through it. It exists to pay them fairly, to tell them who their work is for, and
   to let them decide together how the platform runs.
2. **Members.** Any worker may become a member by subscribing one membership share at the
   price set in the terms. Each member holds exactly one share and one vote, whatever
   they earn or own.
3. **Decisions.** Members decide by proposals and ballots. A passed proposal takes effect
   at once: terms and rules change in the same act that closes the vote.
4. **Coordinators.** Coordinators are members chosen by the members. They triage
   proposals and apply the forum rules, always in the open and always subject to
   appeal. A coordinator who returns a proposal must give a public reason; members can
   still bring it to ballot by petition.
5. **Money.** All money moves through the Coop's ledger and is visible to members in
   aggregate. Surplus is returned to members as patronage in proportion to their work.
6. **Changing these bylaws.** These bylaws change only by a `rule` proposal passed with
   the supermajority set in the terms.
""",
    ),
    "forum-rules": (
        "Forum rules",
        """# Forum rules

The forum belongs to the members. Nobody deletes another person's words. A coordinator
may hide a post only by citing one of these rules, with a reason, in the public
moderation log; the author may appeal.

1. **No doxxing.** Do not post another person's private information (real name, address,
   contact details, employer) without their consent.
2. **No harassment.** Criticise ideas, requesters and decisions freely; do not threaten
   or demean a person.
3. **No spam.** No advertising, referral links or repeated identical posts.
4. **No confidential task data.** Do not post items from batches that hold personal data
   or that you accepted confidentiality for. Talking about pay, treatment and requesters
   is always allowed.
5. **Content warnings.** Mark posts describing violent or disturbing material with a
   warning at the top.
""",
    ),
    "marketplace-code": (
        "Marketplace code",
        """# Marketplace code

Requesters who post work through the Coop agree to:

1. **Fair pay.** Every batch promises at least the minimum hourly rate in the terms,
   measured on the estimated time, and keeps paying it on the real time workers take.
2. **Reasons.** Every rejection states a reason the worker can understand and appeal.
3. **Disclosure.** Every batch names the end client the data is for and its purpose;
   work that impersonates a human to end users says how those users are told.
4. **Protection.** Batches with violent, sexual, hateful, self-harm or disturbing
   content carry warnings; workers opt in and their daily exposure is capped.
5. **Confidentiality.** Batches with personal data name their data-processing agreement;
   workers accept confidentiality before they see any item.
6. **No fake engagement.** Likes, follows, fake reviews and other click-farm work are
   refused.
""",
    ),
}
