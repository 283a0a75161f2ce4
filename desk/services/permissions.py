"""What a person's role may do, read from the database at the moment it matters.

Read per action rather than trusted from the login: an admin's change of permissions takes
effect at once, and an account disabled meanwhile holds none.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.adapters import orm


def held_permissions(session: Session, staff_id: int) -> frozenset[str]:
    """The permissions of the staff member's role now (none when the account is disabled)."""
    return frozenset(
        session.scalars(
            select(orm.RolePermission.permission)
            .join(orm.Staff, orm.Staff.role_id == orm.RolePermission.role_id)
            .where(orm.Staff.id == staff_id, orm.Staff.active)
        )
    )
