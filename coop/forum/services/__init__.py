"""Forum services, one file per story; the public ones are re-exported here for other domains."""
from coop.forum.services.access import (
    JOIN_TO_POST,
    MEMBERS_ONLY,
    can_post,
    can_read,
    check_post,
    check_read,
    is_author,
    is_coordinator,
    readable_appeal,
    readable_board,
    readable_post,
    readable_thread,
    sees_text,
)
from coop.forum.services.moderation import (
    MODERATED,
    MODERATION_EVENTS,
    appeal_page,
    decide_appeal,
    dismiss_flags,
    escalate_appeal,
    flag_post,
    flag_queue,
    moderate,
    moderation_log,
    open_appeal,
    open_flag_counts,
    open_flags,
    quotes_personal_data,
)
from coop.forum.services.posts import (
    DEFAULT_BOARDS,
    add_post,
    create_board,
    edit_post,
    ensure_default_boards,
    history_page,
    list_boards,
    post_page,
    retract_post,
    start_thread,
    thread_page,
)

__all__ = [
    "DEFAULT_BOARDS", "JOIN_TO_POST", "MEMBERS_ONLY", "MODERATED", "MODERATION_EVENTS", "add_post", "appeal_page",
    "can_post", "can_read", "check_post", "check_read", "create_board", "decide_appeal", "dismiss_flags",
    "edit_post", "ensure_default_boards", "escalate_appeal", "flag_post", "flag_queue", "history_page", "is_author",
    "is_coordinator", "list_boards", "moderate", "moderation_log", "open_appeal", "open_flag_counts", "open_flags",
    "post_page", "quotes_personal_data", "readable_appeal", "readable_board", "readable_post", "readable_thread",
    "retract_post", "sees_text", "start_thread", "thread_page"
]
