"""Every command's result leaves through here: every write checked, never a silent partial output.

Python's own streams lose short writes (with PYTHONUNBUFFERED=1, which krmfn's images set, a full
disk took 8 KiB of 10 KiB and the call exited 0). Here a write loops until all bytes are out, and
a failed, short or impossible write raises `OutputError` (one line), which the entry point turns
into `[error] ...` on stderr and exit 1. A file is written to a temporary file in its directory
and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import errno
import io
import os
import sys


class OutputError(Exception):
    """The result could not be written whole. The message is one line and names the destination."""


def _reason(err: OSError) -> str:
    if err.errno == errno.EFBIG:
        return "file too large (a file size limit)"
    return err.strerror or str(err) or type(err).__name__


def write_fd(fd: int, data: bytes, where: str) -> None:
    """All of `data` to `fd`, looping on short writes."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except BrokenPipeError:
            raise  # the reader went away (`| head`): the entry point ends quietly
        except OSError as err:
            raise OutputError(f"{where}: cannot write the output: {_reason(err)}") from None
        if written <= 0:
            raise OutputError(f"{where}: cannot write the output: the write made no progress")
        view = view[written:]


def write_stdout(data: str | bytes) -> None:
    """`data` (text is UTF-8) to standard output, whole, or `OutputError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    stream = sys.stdout
    if stream is None:
        raise OutputError("stdout: cannot write the output: standard output is closed")
    try:
        stream.flush()  # anything written before through Python's stream goes first
        fd = stream.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        fd = None  # an in-memory stream (tests, an embedding caller): it cannot be short
    except OSError as err:
        raise OutputError(f"stdout: cannot write the output: {_reason(err)}") from None
    if fd is None:
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8"))
        return
    write_fd(fd, data, "stdout")


def write_file(path: str, data: str | bytes) -> None:
    """`data` to `path` through a temporary file in the same directory, renamed over `path` once
    written whole: no partial file is ever left, and an existing one stays until the new is whole."""
    import tempfile

    if isinstance(data, str):
        data = data.encode("utf-8")
    check_writable_destination(path)
    if _special(path):
        # A device or a FIFO (`-o /dev/null`, `-o /dev/stdout`) is written in place: renaming a
        # file over it would replace the device itself, for every program on the machine.
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as err:
            raise OutputError(f"{path}: cannot write the output: {_reason(err)}") from None
        try:
            write_fd(fd, data, path)
        finally:
            os.close(fd)
        return
    folder = os.path.dirname(path) or "."
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(f"{path}: cannot write the output: {folder}: {_reason(err)}") from None
    try:
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # what open() would have made, not mkstemp's 0600
            write_fd(fd, data, path)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OutputError:
        _remove(temporary)
        raise
    except OSError as err:
        _remove(temporary)
        raise OutputError(f"{path}: cannot write the output: {_reason(err)}") from None


def _special(path: str) -> bool:
    """An existing path that is not a regular file (nor a directory, refused before)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def check_writable_destination(path: str) -> None:
    """Refuse an output path that cannot be written before any work is done (a directory, a
    missing folder); `write_file` still checks everything when it writes."""
    if os.path.isdir(path):
        raise OutputError(f"{path}: cannot write the output: it is a directory")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise OutputError(f"{path}: cannot write the output: {folder}: no such directory")


def error(line: str) -> None:
    """One line to standard error, best effort: with stderr closed or failing there is nowhere left
    to say it (the exit code still does)."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
