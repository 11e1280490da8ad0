"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

_hasher = PasswordHasher()
# Verified against when the username does not exist, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("creditflow-dummy-password")


def configure(profile: str) -> None:
    """`default`: argon2-cffi's RFC 9106 defaults. `fast`: for the test suite only."""
    global _hasher, _DUMMY_HASH
    if profile == "fast":
        _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    else:
        _hasher = PasswordHasher()
    _DUMMY_HASH = _hasher.hash("creditflow-dummy-password")


MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always does the same amount of work."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)  # also upgrades test-profile hashes


def policy_errors(password: str, username: str = "") -> list[str]:
    """Chinese messages for each rule the password breaks (empty when it is acceptable)."""
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(_("密码至少需要 %(n)s 个字符。", n=MIN_LENGTH))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        errors.append(_("密码需同时包含字母和数字。"))
    if username and username.lower() in password.lower():
        errors.append(_("密码不能包含用户名。"))
    return errors
