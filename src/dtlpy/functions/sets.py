"""DTL functions: sets family."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()
