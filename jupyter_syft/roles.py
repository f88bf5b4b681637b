"""Roles a Datasite account can hold, ordered by power (PySyft's names and values)."""

from __future__ import annotations

from enum import IntEnum


class ServiceRole(IntEnum):
    NONE = 0
    GUEST = 1
    DATA_SCIENTIST = 2
    DATA_OWNER = 32
    ADMIN = 128

    @classmethod
    def parse(cls, value: object) -> ServiceRole:
        """Accept a ServiceRole, its int value or its name ("data_scientist")."""
        if isinstance(value, ServiceRole):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        if isinstance(value, str):
            key = value.strip().upper().removeprefix("SERVICEROLE.")
            if key in cls.__members__:
                return cls[key]
        names = ", ".join(r.name for r in cls if r is not cls.NONE)
        raise ValueError(f"Unknown role {value!r}: use one of {names}.")

    @property
    def is_owner(self) -> bool:
        """Data owners and admins may see private data and manage the Datasite."""
        return self >= ServiceRole.DATA_OWNER

    def __str__(self) -> str:
        return f"ServiceRole.{self.name}"
