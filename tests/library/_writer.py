"""Child process for test_crash_safety: writes tags forever until SIGKILLed.

Usage: python -m tests.library._writer DB LOG RUN
Each committed ``assign`` is appended to LOG as ``content_hash<TAB>tag`` lines and fsynced
*after* the commit returns, so LOG never claims more than the DB must contain.
"""

from __future__ import annotations

import os
import sys

from tagassist.library import Library


def main(db: str, log: str, run: int) -> None:
    lib = Library.open(db)
    user = lib.users.get_or_create("crash")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    # Tell the parent start-up is over, so its random kill lands in the middle of writes.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    i = 0
    while True:
        content_hash = f"r{run}-{i}"
        item, _ = lib.items.upsert(content_hash, "photo", f"/crash/{run}/{i}.jpg", i, float(i))
        tags = [f"t{(i + k) % 37}" for k in range(3)] + [f"place|city{i % 5}|run{run}"]
        lib.assignments.assign(user.id, [item.id], tags)
        os.write(fd, "".join(f"{content_hash}\t{t}\n" for t in tags).encode())
        os.fsync(fd)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
