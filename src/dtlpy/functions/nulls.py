"""DTL functions: nulls family."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()
