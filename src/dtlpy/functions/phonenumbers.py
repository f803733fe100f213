"""DTL functions: phonenumbers family."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()
