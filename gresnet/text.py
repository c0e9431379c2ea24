"""Small helpers for the English sentences the package writes."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """Write a count with its noun, adding 's' unless the count is one: '1 thread', '2 threads'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
