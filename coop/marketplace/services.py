"""Marketplace services."""


def tick(now) -> str:
    """Time-driven marketplace work that is due."""
    return "nothing due"
