"""Fixtures for the seccomp tests (helpers live in seccomp_support)."""

from seccomp_support import container, variant  # noqa: F401 - fixtures
