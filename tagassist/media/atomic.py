"""Writing a file so that readers see the old or the new one, never half of it."""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path


def _new_temp(folder: Path) -> tuple[int, str]:
    """A new temp file in ``folder``, created as any new file is (0666 less the umask, so a
    default ACL applies too), open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(6)}.part")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def atomic_write(target: Path, payload: bytes, *, keep_mode: bool = False) -> None:
    """Write bytes to ``target`` so that readers see either the old or the new file, never half.

    ``keep_mode``: the result has the permission bits (and, where allowed, the group) of the
    file it replaces, or a new file's mode (0666 less the umask) if there was none; files the
    user owns, such as sidecars, want this.  Without it the file is private (0600), as caches
    and generated tables have always been written.
    """
    if keep_mode:
        fd, tmp = _new_temp(target.parent)
    else:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if keep_mode:
            _copy_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)


def _copy_mode(old: Path, new: str) -> None:
    try:
        st = os.stat(old)
    except FileNotFoundError:
        return  # a new file keeps the mode it was created with
    if hasattr(os, "chown") and st.st_gid != os.stat(new).st_gid:
        try:
            os.chown(new, -1, st.st_gid)  # before chmod: chown may clear the setgid bit
        except OSError:
            pass  # not a member of that group: the mode is still kept
    os.chmod(new, stat.S_IMODE(st.st_mode))


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; not possible on every platform (Windows), so best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
