"""Marketplace tables."""
