"""What may be uploaded as a document, judged by name and by content.

Our own small table rather than libmagic: the accepted set is short and fixed,
and python-magic would need a system library on every machine. A file is
accepted only when its extension is allowed *and* its first bytes are what
that extension promises, so a renamed executable is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    magic: bytes | None = None  # required leading bytes
    zip_member_prefix: str | None = None  # Office Open XML: a folder inside the zip
    text: bool = False


KINDS: dict[str, FileKind] = {
    ".pdf": FileKind("application/pdf", magic=b"%PDF-"),
    ".docx": FileKind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip_member_prefix="word/"
    ),
    ".xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", zip_member_prefix="xl/"),
    ".pptx": FileKind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", zip_member_prefix="ppt/"
    ),
    ".doc": FileKind("application/msword", magic=OLE2),
    ".xls": FileKind("application/vnd.ms-excel", magic=OLE2),
    ".msg": FileKind("application/vnd.ms-outlook", magic=OLE2),
    ".png": FileKind("image/png", magic=b"\x89PNG\r\n\x1a\n"),
    ".jpg": FileKind("image/jpeg", magic=b"\xff\xd8\xff"),
    ".jpeg": FileKind("image/jpeg", magic=b"\xff\xd8\xff"),
    ".txt": FileKind("text/plain", text=True),
    ".csv": FileKind("text/csv", text=True),
    ".eml": FileKind("message/rfc822", text=True),
}


class UploadRejected(Exception):
    """The upload is refused; the message is safe to show (it names no content)."""


def allowed_extensions() -> str:
    return ", ".join(sorted(KINDS))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still text.
        return exc.start >= len(head) - 3
    return True


def inspect_upload(upload: UploadedFile, max_bytes: int) -> FileKind:
    """Check size, extension and content; return the kind, or raise UploadRejected."""
    if upload.size == 0:
        raise UploadRejected(_("The file is empty."))
    if upload.size > max_bytes:
        raise UploadRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{max_bytes / 1048576:.0f}"}
        )
    extension = PurePath(upload.name or "").suffix.lower()
    kind = KINDS.get(extension)
    if kind is None:
        if extension:
            message = _("%(ext)s files cannot be uploaded. Accepted: %(types)s.")
        else:
            message = _("Files without an extension cannot be uploaded. Accepted: %(types)s.")
        raise UploadRejected(message % {"ext": extension, "types": allowed_extensions()})
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if kind.magic is not None and not head.startswith(kind.magic):
        raise UploadRejected(_("The file's content does not match its %(ext)s extension.") % {"ext": extension})
    if kind.text and not _looks_like_text(head):
        raise UploadRejected(_("The file's content does not match its %(ext)s extension.") % {"ext": extension})
    if kind.zip_member_prefix is not None and not _is_office_zip(upload, kind.zip_member_prefix):
        raise UploadRejected(_("The file's content does not match its %(ext)s extension.") % {"ext": extension})
    return kind


def _is_office_zip(upload: UploadedFile, prefix: str) -> bool:
    # Reads only the zip's central directory: nothing is decompressed.
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    return "[Content_Types].xml" in names and any(name.startswith(prefix) for name in names)


class DiscardFiles(FileUploadHandler):
    """Parses a request's form fields but drops its files unread to disk.

    Installed for a request that declares more bytes than any document may
    have, before anything (the CSRF check included) parses the body: the view
    then answers 413 with the form, and no temporary file is ever written.
    """

    def new_file(self, *args, **kwargs):
        raise SkipFile

    def receive_data_chunk(self, raw_data, start):
        return None

    def file_complete(self, file_size):
        return None


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def exceeds_upload_limit(request, max_bytes: int) -> bool:
    # Room for the form's other fields and the multipart boundaries.
    return declared_length(request) > max_bytes + 64 * 1024
