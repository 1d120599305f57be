from __future__ import annotations

import subprocess
import sys

import bcrypt
import pytest

from dashboard import auth
from ingest.settings import DashboardAuth, DashboardUser

ROUNDS = 4  # fast hashes for tests; the CLI uses 12


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(ROUNDS)).decode()


@pytest.fixture
def users() -> dict[str, auth.Account]:
    section = DashboardAuth(
        users=[DashboardUser(name="wang", role="business", password_hash=hashed("yuan-2024"))]
    )
    found = auth.accounts(section, {section.users_env: f"li:ops:{hashed('ops-pass')}"})
    assert found is not None
    return found


def test_the_right_password_signs_a_user_in_with_their_role(users):
    account = auth.verify(users, "wang", "yuan-2024")
    assert account is not None and account.role == "business"
    assert auth.verify(users, " li ", "ops-pass").role == "ops"  # type: ignore[union-attr]


def test_a_wrong_password_is_refused(users):
    assert auth.verify(users, "wang", "yuan-2025") is None
    assert auth.verify(users, "wang", "") is None


def test_an_unknown_user_is_refused(users):
    assert auth.verify(users, "zhang", "yuan-2024") is None


def test_a_business_user_may_open_overview_and_alerts_but_not_pipeline_or_audit():
    pages = ("overview", "alerts", "pipeline", "audit")
    assert [page for page in pages if auth.can_open("business", page)] == ["overview", "alerts"]


def test_an_ops_user_may_open_every_page_and_an_unknown_role_none():
    assert all(auth.can_open("ops", p) for p in ("overview", "alerts", "pipeline", "audit"))
    assert not auth.can_open("guest", "overview")


def test_login_is_off_only_without_an_auth_section_and_without_users_in_the_environment():
    assert auth.accounts(None, {}) is None
    assert auth.accounts(DashboardAuth(), {}) == {}  # required, but nobody can log in yet
    from_env = auth.accounts(None, {auth.DEFAULT_USERS_ENV: f"li:ops:{hashed('x')}"})
    assert from_env is not None and set(from_env) == {"li"}


def test_users_in_the_environment_that_cannot_be_read_are_refused_with_the_reason():
    with pytest.raises(auth.AuthConfigError, match=r"'li'.*role"):
        auth.parse_users(f"li:admin:{hashed('x')}")
    with pytest.raises(auth.AuthConfigError, match="not a bcrypt hash"):
        auth.parse_users("li:ops:plain-text-password")


def test_a_config_password_must_be_a_bcrypt_hash_never_the_password():
    with pytest.raises(ValueError, match="not a bcrypt hash"):
        DashboardUser(name="wang", role="business", password_hash="yuan-2024")


def test_the_hash_command_prints_a_hash_that_verifies_the_password_it_read():
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.auth", "hash"],
        input="s3cret pass\n", capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    printed = result.stdout.strip()
    assert bcrypt.checkpw(b"s3cret pass", printed.encode())
    DashboardUser(name="x", role="ops", password_hash=printed)  # accepted by the config
