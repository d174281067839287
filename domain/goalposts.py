"""Moving a goalpost must say why.

A goalpost is what progress or health is judged against: a key result's start
and target once its cycle has started, a KPI's target and bands once it has
readings. Changing one then rewrites what "on track" means for everyone who
already reported against it, so the command must carry a reason; the change
history flags exactly these changes `goalpostMoved`.
"""

from __future__ import annotations

from okrledger.domain.errors import DomainError


def require_reason(reason: str | None, *, moved: str) -> None:
    if reason is None or not reason.strip():
        raise ReasonRequired(
            f"{moved} moves a goalpost; give a reason for the change", field="reason"
        )


class ReasonRequired(DomainError):
    """A change that moves a goalpost came without a reason; nothing was changed."""

    code = "REASON_REQUIRED"
