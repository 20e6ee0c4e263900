"""Finding and reading doc files safely: what to walk, what to skip, and why.

Docs are untrusted input, so symbolic links and anything but regular files are never
followed, file names must be printable UTF-8, and files and lines have size caps. A file that
breaks one of these rules is skipped with a reason (``SkippedFile``) and the rest is read.
"""

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .base import CONTROL_CHARS, DOC_SUFFIXES, DocumentError, SkippedFile, printable_path

logger = logging.getLogger(__name__)

# Limits on untrusted docs. Real Docusaurus pages stay far below them (the Jest, Redux and
# React Native docs: largest page 90 kB, longest line 1.3 kB, largest front matter 309 bytes).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_LINE_CHARS = 50_000


def _is_doc_file(rel: PurePosixPath) -> bool:
    if rel.suffix.lower() not in DOC_SUFFIXES:
        return False
    return not any(part.startswith(("_", ".")) or part == "node_modules" for part in rel.parts)


def read_doc_file(path: Path) -> str:
    """The text of a regular file, refusing symbolic links, special files (FIFOs, devices,
    ``/proc`` entries behind a link), oversized files, long lines and bytes that are not
    UTF-8. Raises ``DocumentError`` saying which rule the file breaks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise DocumentError("is a symbolic link") from exc
        raise DocumentError(f"cannot be opened ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError("is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise DocumentError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"is not UTF-8 text (bad byte at offset {exc.start})") from exc
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        raise DocumentError(f"has a line longer than {MAX_LINE_CHARS} characters")
    return text


def site_roots(root: Path) -> tuple[list[Path], list[str] | None]:
    """The folders to walk: a docs folder itself, or a site's docs/versioned/i18n trees.

    Symbolic links among them are left out like everywhere else."""
    versions = None
    versions_file = root / "versions.json"
    if versions_file.is_file() and not versions_file.is_symlink():
        try:
            versions = [str(v) for v in json.loads(read_doc_file(versions_file))]
        except (ValueError, TypeError):
            logger.warning("ignoring unreadable %s", versions_file)
    site_markers = ("docusaurus.config.js", "docusaurus.config.ts", "versioned_docs", "i18n")
    if (root / "docs").is_dir() and (versions is not None or any((root / m).exists() for m in site_markers)):
        walk = [root / "docs"]
        walk += sorted(p for p in (root / "versioned_docs").glob("version-*") if p.is_dir())
        walk += sorted(
            p for p in (root / "i18n").glob("*/docusaurus-plugin-content-docs/*") if p.is_dir()
        )
        walk = [p for p in walk if not any(
            part.is_symlink() for part in (p, *p.parents) if part != root and root in part.parents)]
        return walk, versions if versions is not None else []
    return [root], None


def _name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not UTF-8"
    if CONTROL_CHARS.search(name):
        return "its name contains control characters"
    return None


def walk_doc_files(root: Path) -> Iterator[Path | SkippedFile]:
    """Every doc file below ``root`` in a stable order, partials and non-docs left out.

    Yields a ``SkippedFile`` instead of a path for what looks like a doc (or a folder of
    docs) but must not be read: a symbolic link (in or out of the folder alike), a FIFO,
    socket or device, or a name with control characters or non-UTF-8 bytes. Symlinked
    folders are not entered.
    """
    root = Path(root)
    walk, _ = site_roots(root)
    for base in walk:
        for folder, dirs, files in os.walk(base, followlinks=False):
            folder_path = Path(folder)
            rel_folder = PurePosixPath(folder_path.relative_to(base).as_posix())
            kept_dirs = []
            for name in sorted(dirs):
                rel = PurePosixPath(folder_path.relative_to(root).as_posix()) / name
                if name.startswith(("_", ".")) or name == "node_modules":
                    continue
                problem = ("is a symbolic link (not followed)" if (folder_path / name).is_symlink()
                           else _name_problem(name))
                if problem:
                    yield SkippedFile(printable_path(str(rel)), f"folder {problem}")
                    continue
                kept_dirs.append(name)
            dirs[:] = kept_dirs
            for name in sorted(files):
                if not _is_doc_file(rel_folder / name):
                    continue
                path = folder_path / name
                rel = printable_path(path.relative_to(root).as_posix())
                problem = _name_problem(name)
                if problem is None:
                    mode = os.lstat(path).st_mode
                    if stat.S_ISLNK(mode):
                        problem = "is a symbolic link (not followed)"
                    elif not stat.S_ISREG(mode):
                        problem = "is not a regular file"
                if problem:
                    yield SkippedFile(rel, problem)
                else:
                    yield path


def iter_doc_files(root: Path) -> Iterator[Path]:
    """The doc files ``walk_doc_files`` accepts."""
    return (item for item in walk_doc_files(root) if isinstance(item, Path))


def inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
