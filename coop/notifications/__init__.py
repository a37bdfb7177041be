"""Notifications: what concerns a member, in the app and by email (immediate, in a daily digest, or off)."""
