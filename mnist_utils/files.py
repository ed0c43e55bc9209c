"""Write every file once, whole: into a temporary file beside the target, then rename.

A reader of the target sees either the old file or the new one, never a part of one,
because renaming within a folder is atomic. Every file the package writes (the dataset
download, a trained model with its record, an ONNX export, the command line's outputs)
goes through :func:`atomic_path`.

The temporary file is named ``.<target>.<pid>.<random>.tmp<suffix>`` (it keeps the
target's suffix, since Keras and other writers check it): hidden, never read by the
package, and tagged with the writing process's id, so a temporary file left by a process
that was killed is recognised (its process is gone) and removed the next time anything
is written to the same target.

Written files get one permission policy, :data:`FILE_MODE` (``0o644`` less the user's
umask), like a file made by ``open(path, "w")``; ``tempfile.mkstemp`` would leave them
readable by their owner only, which the book's web server, for one, cannot read.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import FileWriteError, InputValueError, os_reason

__all__ = ["FILE_MODE", "atomic_path", "check_writable", "remove_stale_temporaries", "write_bytes", "write_text"]

#: Permissions of every file the package writes, before the umask is applied.
FILE_MODE = 0o644

_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str | os.PathLike[str], *, name: str = "path", suffix: str | None = None) -> Path:
    """Check, before any long work starts, that a file can be written at ``path``.

    Creates the missing parent folders and a temporary file beside ``path`` (removed at
    once), so that every reason a later :func:`atomic_path` would fail (a parent that is a
    file, no permission, a read-only disk, a name too long) is found now.

    Parameters
    ----------
    path:
        The file to be written.
    name:
        The argument's name, for the error message.
    suffix:
        If given, the file name must end with it (for example ``".keras"``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputValueError
        If ``path`` names an existing folder or lacks ``suffix``.
    FileWriteError
        If the file cannot be created there.
    """
    path = Path(path)
    if suffix is not None and path.suffix != suffix:
        raise InputValueError(
            f"{name} must end in {suffix}, got {str(path)!r}; for example {path.with_suffix(suffix).name}."
        )
    try:
        if path.is_dir():
            raise InputValueError(f"{name} {str(path)!r} is a folder; give a file name inside it.")
    except OSError as error:  # a name too long, say
        raise FileWriteError(f"cannot use {path} as {name}: {os_reason(error)}.") from error
    _make_temporary(path, name).unlink()
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, name: str = "path") -> Iterator[Path]:
    """A temporary path beside ``path``; on success, renamed over ``path``.

    Write the file to the yielded path by any means (``model.save``, an exporter, a
    stream). When the ``with`` block ends without an error and the temporary file exists,
    it gets :data:`FILE_MODE` and replaces ``path`` in one step; if the block raises (or
    the process is interrupted), the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    FileWriteError
        If the folder cannot be created or written to, or the rename fails.
    """
    path = Path(path)
    temporary = _make_temporary(path, name)
    try:
        yield temporary
        if temporary.exists():
            os.chmod(temporary, FILE_MODE & ~_umask())
            os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, FileWriteError):
            raise
        raise FileWriteError(f"cannot write {name} {path}: {os_reason(error)}.") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _make_temporary(path: Path, name: str) -> Path:
    """Create the folders and an empty temporary file beside ``path``; clear leftovers."""
    blocker = next((folder for folder in path.parents if folder.exists() or folder.is_symlink()), None)
    if blocker is not None and not blocker.is_dir():
        raise FileWriteError(f"cannot write {name} {path}: {blocker} is a file, not a folder.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=_SUFFIX + path.suffix
        )
        os.close(handle)
    except OSError as error:
        raise FileWriteError(
            f"cannot write {name} {path}: {os_reason(error)}. Choose a folder you can write to."
        ) from error
    return Path(temporary)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, name: str = "path") -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns ``path``."""
    with atomic_path(path, name=name) as temporary:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, *, name: str = "path") -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_path`); returns ``path``."""
    return write_bytes(path, text.encode("utf-8"), name=name)


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files of ``path`` left behind by processes that no longer run.

    Only files named like :func:`atomic_path`'s (``.<name>.<pid>.<random>.tmp<suffix>``) whose
    process id is not alive on this machine are removed; a write in progress is never
    touched. Returns the removed paths.
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[A-Za-z0-9_]+{re.escape(_SUFFIX + path.suffix)}$")
    removed = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True
