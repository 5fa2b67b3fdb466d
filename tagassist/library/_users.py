"""``library.users``: the people who tag in this library."""

from __future__ import annotations

import sqlite3

from ._common import Manager, now
from .errors import LibraryError, NotFoundError
from .models import User
from .names import clean


class UserManager(Manager):
    def add(self, name: str) -> User:
        name = clean(name)
        if not name:
            raise LibraryError("A user name cannot be empty.")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise LibraryError(f"A user named {name!r} already exists.")
            cur = conn.execute("INSERT INTO users (name, created) VALUES (?, ?)", (name, now()))
            return user(conn, cur.lastrowid)

    def get_or_create(self, name: str) -> User:
        with self._lib._lock:
            with self._read() as conn:
                row = conn.execute("SELECT id FROM users WHERE name = ?", (clean(name),)).fetchone()
                if row:
                    return user(conn, row[0])
            return self.add(name)

    def all(self) -> list[User]:
        with self._read() as conn:
            return [
                User(*r) for r in conn.execute("SELECT id, name, created FROM users ORDER BY id")
            ]


def user(conn: sqlite3.Connection, user_id: int | None) -> User:
    row = conn.execute("SELECT id, name, created FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return User(*row)
