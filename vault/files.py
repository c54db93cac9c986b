"""An encrypted file field: content encrypted as it is stored, decrypted as it is read.

``document.file.save(name, upload)`` encrypts the upload as a stream under the
owner's active data key (vault.streams) and hands the storage ciphertext
only; ``document.file.open_plaintext()`` returns a read-only binary file that
decrypts segment by segment. Works with any Django storage (file system,
S3-compatible), because the storage sees an ordinary file of ciphertext.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import File
from django.db import models
from django.db.models.fields.files import FieldFile

from vault import keyring, streams
from vault.fields import owner_of
from vault.models import DataKey, KeyState


def file_binding(instance, field_name: str) -> bytes:
    # The row and field the content belongs to, not the storage name: a name may change
    # (rotation writes a new one) but the content may never move to another document.
    return f"{instance._meta.label_lower}|{field_name}|{instance.pk}".encode()


class EncryptedContent(File):
    """Ciphertext of ``source``, produced lazily: storages read it in segments."""

    def __init__(self, source, key: keyring.LiveKey, binding: bytes, plaintext_size: int | None):
        segment_size = min(settings.VAULT_SEGMENT_KIB * 1024, streams.MAX_SEGMENT)
        self._segments = streams.ReadAhead(streams.encrypt_segments(source, key, binding, segment_size))
        reader = streams.SegmentReader(self._segments)
        super().__init__(reader, name=getattr(source, "name", None))
        if plaintext_size is not None:
            self.size = streams.encrypted_size(plaintext_size, segment_size)

    def chunks(self, chunk_size=None):
        # Whole segments, straight from the cipher (no re-chunking copy).
        yield from self._segments

    def multiple_chunks(self, chunk_size=None) -> bool:
        return True

    def close(self) -> None:
        # Stops the read-ahead thread if the storage gave up before the end.
        self._segments.close()
        super().close()


class EncryptedFieldFile(FieldFile):
    def save(self, name, content, save=True):
        if hasattr(content, "seek"):
            content.seek(0)
        key = keyring.active_key(owner_of(self.instance))
        size = getattr(content, "size", None)
        source = content.file if isinstance(content, File) and content.file is not None else content
        encrypted = EncryptedContent(source, key, file_binding(self.instance, self.field.name), size)
        try:
            super().save(name, encrypted, save=save)
        finally:
            encrypted.close()

    def open_plaintext(self, *, fresh_key: bool = True) -> streams.SegmentReader:
        """The decrypted content as a read-only binary file; close it when done.

        ``fresh_key`` reads the data key's state now rather than from the cache, so a
        document of a client shredded a moment ago elsewhere is refused at once.
        Raises KeyDestroyed (the client was shredded), KeyUnavailable or TamperedFile
        — the last possibly only part-way through reading.
        """
        try:
            stored = self.storage.open(self.name, "rb")
        except FileNotFoundError:
            # Shredding deletes a client's files once its keys are destroyed: gone for good, not lost.
            if DataKey.objects.filter(owner=owner_of(self.instance), state=KeyState.DESTROYED).exists():
                raise keyring.KeyDestroyed("The document's key was destroyed (crypto-shredded).") from None
            raise
        key_for = keyring.fresh_key_by_id if fresh_key else keyring.key_by_id
        try:
            segments = streams.decrypt_segments(stored, key_for, file_binding(self.instance, self.field.name))
            first = next(segments)  # header and first segment checked before anything is served
        except BaseException:
            stored.close()
            raise

        ahead = streams.ReadAhead(segments)

        def all_segments():
            yield first
            yield from ahead

        def close():
            ahead.close()
            stored.close()

        return streams.SegmentReader(all_segments(), on_close=close)

    def key_id(self) -> int:
        with self.storage.open(self.name, "rb") as stored:
            return streams.read_header(stored)[1]


class EncryptedFileField(models.FileField):
    """A FileField whose content is stored encrypted (its model needs ``vault_owner``)."""

    attr_class = EncryptedFieldFile
    encrypted_file = True
