"""Who may open which page: bcrypt-hashed users from config.yaml (``dashboard.auth.users``)
or from the environment (``LEDGERLENS_DASHBOARD_USERS="name:role:hash,..."``), and two
roles: ``business`` sees Overview and Alerts, ``ops`` sees every page.

``python -m dashboard.auth hash`` prints the bcrypt hash of a password read from the
terminal (or stdin), for either place.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import bcrypt
from pydantic import ValidationError

from ingest.settings import DashboardAuth, DashboardUser

ROLES: dict[str, tuple[str, ...]] = {
    "business": ("overview", "alerts"),
    "ops": ("overview", "alerts", "pipeline", "audit"),
}
DEFAULT_USERS_ENV = DashboardAuth().users_env
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = b"$2b$12$nu.xR9l3BbXmMxgA8jKMPeI541E5b5.g1E/kMDhbmNdF7xsWKCAZO"  # of a random phrase


class AuthConfigError(ValueError):
    """Users in the environment that cannot be read."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: bytes


def accounts(
    auth: DashboardAuth | None, environ: Mapping[str, str] = os.environ
) -> dict[str, Account] | None:
    """Every user who may log in, or None when login is off (no ``dashboard.auth`` section
    and no users in the environment: demo mode)."""
    env_name = auth.users_env if auth is not None else DEFAULT_USERS_ENV
    from_env = environ.get(env_name, "").strip()
    if auth is None and not from_env:
        return None
    users = list(auth.users) if auth is not None else []
    users += parse_users(from_env, env_name)
    return {u.name: Account(u.name, u.role, u.password_hash.encode()) for u in users}


def parse_users(text: str, source: str = DEFAULT_USERS_ENV) -> list[DashboardUser]:
    """``name:role:hash`` entries separated by commas (a bcrypt hash has neither)."""
    users = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, role, hashed = [*entry.split(":", 2), "", ""][:3]
        try:
            users.append(DashboardUser.model_validate({"name": name, "role": role,
                                                       "password_hash": hashed}))  # fmt: skip
        except ValidationError as exc:
            problem = exc.errors()[0]
            key = ".".join(str(part) for part in problem["loc"])
            raise AuthConfigError(
                f"${source}: the entry of user {name!r} is not name:role:bcrypt-hash "
                f"({key}: {str(problem['msg']).removeprefix('Value error, ')})"
            ) from None
    return users


def verify(users: Mapping[str, Account], name: str, password: str) -> Account | None:
    """The account when the password matches its hash; None otherwise."""
    account = users.get(name.strip())
    candidate = password.encode()
    if account is None:
        bcrypt.checkpw(candidate, _DUMMY_HASH)
        return None
    return account if bcrypt.checkpw(candidate, account.password_hash) else None


def can_open(role: str | None, page: str) -> bool:
    """Whether ``role`` may open ``page``; None (login off) may open every page."""
    if role is None:
        return True
    return page in ROLES.get(role, ())


def hash_password(password: str, rounds: int = 12) -> str:
    if not password:
        raise ValueError("the password is empty")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["hash"]:
        print("usage: python -m dashboard.auth hash   (reads the password)", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        print(hash_password(password))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
