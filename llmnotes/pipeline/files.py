"""Files a user names: read only regular files of a bounded size, write without replacing devices.

Every path a command reads (vectors, labelled data, a corpus, a cached tokenizer) goes through
:func:`readable_file` or :func:`readable_folder`, so ``/dev/zero``, a FIFO or a symlink loop
gets one line instead of eating memory or hanging. Every file a command writes goes through
:func:`write_atomic`: a temporary file renamed over the target, so an interrupted write leaves
the previous file; a symlink is written through (its target is replaced, the link kept) and a
device, FIFO, socket or folder is never replaced.

Examples:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "note.txt", b"hello")
    >>> readable_file(folder / "note.txt", "a note").name
    'note.txt'
    >>> readable_file(folder, "a note")
    Traceback (most recent call last):
    ...
    llmnotes.pipeline.files.FileProblem: a note must be a file, but ... is a folder
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from llmnotes.errors import UserError

#: The largest file a command reads by default: 8 GiB (GloVe 840B's text file is 5.6 GB).
MAX_READ_BYTES = 8 << 30


class FileProblem(UserError, OSError):
    """A path that cannot be read or written as asked; the message names the fix."""


class WriteError(FileProblem):
    """A file could not be written (a read-only folder, a full disk); the target is unchanged."""


def kind_of(mode: int) -> str:
    """What a ``stat`` mode is, in words (``a folder``, ``a FIFO``, ``a character device``)."""
    kinds = {
        stat.S_ISDIR: "a folder",
        stat.S_ISFIFO: "a FIFO (named pipe)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISREG: "a file",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a file")


def given_path(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` with ``~`` expanded; an empty one is refused.

    ``Path("")`` is the current folder, which nobody means by an empty ``--train ""``.

    Raises:
        FileProblem: The path is empty or blank.
    """
    if not str(path).strip():
        raise FileProblem(f"{what}: the path is empty; give a file or folder")
    return Path(path).expanduser()


def _stat(path: Path, what: str) -> os.stat_result:
    """``os.stat`` (following symlinks) with one-line errors that name ``what``."""
    try:
        return path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise FileProblem(f"{what}: {path} is a symlink to nothing") from None
        raise FileProblem(f"{what}: no such file or folder: {path}") from None
    except OSError as error:
        # ELOOP (a symlink loop), ENAMETOOLONG, EACCES on a parent folder…
        raise FileProblem(f"{what}: cannot use {path}: {error.strerror or error}") from None


def readable_file(path: str | os.PathLike[str], what: str, limit: int = MAX_READ_BYTES) -> Path:
    """Check that ``path`` is a regular, readable file of at most ``limit`` bytes.

    Args:
        path: The path given (symlinks are followed).
        what: What the file is for, named in the message (``"--vectors"``).
        limit: The largest size accepted.

    Returns:
        The path, expanded (``~``).

    Raises:
        FileProblem: The path is empty or missing, not a regular file, too large or unreadable.
    """
    path = given_path(path, what)
    info = _stat(path, what)
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"{what} must be a file, but {path} is {kind_of(info.st_mode)}")
    if info.st_size > limit:
        raise FileProblem(
            f"{what}: {path} is {info.st_size / 2**30:.1f} GiB, over the limit of "
            f"{limit / 2**30:.1f} GiB; give a smaller file"
        )
    if not os.access(path, os.R_OK):
        raise FileProblem(f"{what}: {path} is not readable (permission denied); chmod u+r it")
    return path


def readable_folder(path: str | os.PathLike[str], what: str) -> Path:
    """Check that ``path`` is a folder that can be listed.

    Raises:
        FileProblem: The path is empty or missing, not a folder, or unreadable.
    """
    path = given_path(path, what)
    info = _stat(path, what)
    if not stat.S_ISDIR(info.st_mode):
        raise FileProblem(f"{what} must be a folder, but {path} is {kind_of(info.st_mode)}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise FileProblem(f"{what}: {path} is not readable (permission denied); chmod u+rx it")
    return path


def readable_path(path: str | os.PathLike[str], what: str, limit: int = MAX_READ_BYTES) -> Path:
    """Check that ``path`` is a readable folder or regular file (see :func:`readable_file`).

    Raises:
        FileProblem: Neither a folder nor a usable file.
    """
    path = given_path(path, what)
    if stat.S_ISDIR(_stat(path, what).st_mode):
        return readable_folder(path, what)
    return readable_file(path, what, limit)


def output_target(path: str | os.PathLike[str], what: str) -> Path:
    """The file that writing ``path`` replaces: the path itself, or a symlink's final target.

    Raises:
        FileProblem: The path is empty, is (or points to) something other than a regular file,
            or is a symlink loop.
    """
    given = given_path(path, what)
    try:
        target = given.resolve(strict=False) if given.is_symlink() else given
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop on Python < 3.13
        raise FileProblem(f"{what}: cannot follow the symlink {given}: {error}") from None
    try:
        info = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return target  # a new file; a folder that cannot be made fails when writing
    except OSError as error:
        raise FileProblem(f"{what}: cannot use {given}: {error.strerror or error}") from None
    if stat.S_ISLNK(info.st_mode):
        raise FileProblem(f"{what}: {given} is a symlink loop; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(
            f"{what}: {given} is {kind_of(info.st_mode)}, not a file; give a new file name"
        )
    return target


def outside(path: str | os.PathLike[str], what: str, folders: list[Path], why: str) -> Path:
    """Refuse ``path`` if it is one of ``folders`` or inside one; return it expanded.

    Raises:
        FileProblem: ``path`` is empty, cannot be resolved (a symlink loop), or is inside one
            of ``folders``; the message ends with ``why``.
    """
    given = given_path(path, what)
    try:
        resolved = given.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop on Python < 3.13
        raise FileProblem(f"{what}: cannot use {path}: {error}") from None
    for folder in folders:
        if resolved == folder or folder in resolved.parents:
            raise FileProblem(f"{what}: {path} is inside {folder}, {why}")
    return given


def outside_the_site(path: str | os.PathLike[str], what: str) -> Path:
    """Refuse a user's output path inside the site's folders (:func:`site_folders`).

    Raises:
        FileProblem: ``path`` is empty or inside ``docs/`` or the built ``site/``.
    """
    from llmnotes.pipeline.paths import site_folders

    why = "which is published as the site; write it somewhere else"
    return outside(path, what, site_folders(), why)


def write_atomic(path: str | os.PathLike[str], data: bytes, what: str = "the output") -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (see the module notes).

    Raises:
        FileProblem: ``path`` is (or points to) a folder, device, FIFO or socket.
        WriteError: The folder is missing, read-only or full; the target is left unchanged.
    """
    target = output_target(path, what)
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp_name, stat.S_IMODE(target.stat().st_mode))
        else:
            os.chmod(tmp_name, 0o666 & ~current_umask())
        os.replace(tmp_name, target)
    except OSError as error:
        if tmp_name and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise WriteError(
            f"cannot write {path}: {error.strerror or error}; make the folder writable "
            "(and free some disk space), then run the command again"
        ) from error


def current_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
