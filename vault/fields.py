"""Encrypted model fields and their blind indexes.

Declaring a sensitive field is one line::

    name = EncryptedCharField(_("name"), max_length=200)

and, where exact-match search is needed, its index beside it::

    name_index = BlindIndexField(of="name")

The model says whose key protects its rows with ``vault_owner``, a lookup path
to the client's id ("pk" on the client itself, "client_id" on a matter,
"matter__client_id" on a party). The field registers itself in
``lawfirm.sensitive``, so audit masking follows from the same line.

How it works: the column holds the envelope text (vault.envelope). Values
come out of the database sealed and are opened only when the attribute is
read, with the row's primary key in hand (the associated data binds the value
to its row) — so a list shows only the fields it renders. Values are sealed
in ``pre_save`` under the owner's active key. A value whose key was destroyed
reads as :class:`DestroyedValue` ("destroyed"). Comparing an encrypted field
with plaintext in a query raises :class:`EncryptedLookup`: search the blind
index instead.
"""

from __future__ import annotations

import contextlib

from django.core import checks
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext

from lawfirm.sensitive import declare_sensitive
from vault import envelope
from vault.blind import INDEX_LENGTH, blind_index
from vault.keyring import KeyDestroyed, active_key


class EncryptedLookup(TypeError):
    """A query compared an encrypted column with plaintext, which can never match."""


class Sealed:
    """A value as stored: opened only through its model attribute (which knows the row)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return "<sealed>"

    def __str__(self) -> str:
        return "••••••"


class DestroyedValue(str):
    """What a field of a crypto-shredded client reads as."""

    destroyed = True

    def __new__(cls):
        return super().__new__(cls, gettext("destroyed"))


def owner_of(instance) -> object:
    """Follow the model's ``vault_owner`` path ("matter__client_id") to the owning client's id."""
    value = instance
    for part in type(instance).vault_owner.split("__"):
        value = getattr(value, part)
    if value is None:
        raise ValueError(f"{type(instance)._meta.label} has no owner yet: cannot choose its encryption key.")
    return value


def where(instance, field_name: str) -> bytes:
    return envelope.location(instance._meta.label_lower, field_name, instance.pk)


class EncryptedAttribute(DeferredAttribute):
    """Opens a sealed value on first read. A data descriptor (it has ``__set__``), so that
    reads come here even though the value sits in the instance's ``__dict__``."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedMixin:
    """What the encrypted field classes share; the column is text whatever the Python type."""

    descriptor_class = EncryptedAttribute
    encrypted = True

    def get_internal_type(self) -> str:
        return "TextField"

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Historical models built by migrations live in the "__fake__" module: not declarations.
        if not cls._meta.abstract and cls.__module__ != "__fake__":
            declare_sensitive(cls._meta.label_lower, name)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        model = getattr(self, "model", None)
        if model is not None and not model._meta.abstract and not hasattr(model, "vault_owner"):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has encrypted fields but no vault_owner path to its client.",
                    obj=self,
                    id="vault.E010",
                )
            )
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "An encrypted field cannot be unique or indexed: add a BlindIndexField.", obj=self, id="vault.E011"
                )
            )
        return errors

    def get_lookup(self, lookup_name):
        # Pattern lookups (icontains, startswith…) skip get_prep_value, so they would
        # silently match nothing: refuse every lookup but those that can be meaningful.
        if lookup_name not in {"exact", "isnull", "in"}:
            raise EncryptedLookup(
                f"{self.model._meta.label}.{self.name} is encrypted: '{lookup_name}' cannot search it; "
                "search its blind index instead."
            )
        return super().get_lookup(lookup_name)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sealed(value)

    def to_python(self, value):
        if isinstance(value, Sealed | None):
            return value
        return str(value)

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        if isinstance(value, Envelope):
            return str(value)
        if isinstance(value, Sealed):
            return value.text
        raise EncryptedLookup(
            f"{self.model._meta.label}.{self.name} is encrypted: it cannot be compared with plaintext "
            "in a query; search its blind index instead."
        )

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None or value == "":
            return value
        if isinstance(value, DestroyedValue):
            raise KeyDestroyed("This client's keys were destroyed; its records cannot be changed.")
        return self.seal(model_instance, value)

    def seal(self, instance, plaintext: str) -> envelope.Envelope:
        if instance.pk is None:
            # The value is bound to its row by primary key: one the database assigns only after
            # the INSERT would bind it to "None", and it could never be opened again.
            raise ValueError(f"{instance._meta.label} has no primary key yet: give the model a UUID primary key.")
        return envelope.seal(active_key(owner_of(instance)), str(plaintext), where(instance, self.name))

    def open(self, instance, sealed: Sealed):
        try:
            return envelope.open_envelope(sealed.text, where(instance, self.name))
        except KeyDestroyed:
            return DestroyedValue()

    def value_to_string(self, obj):
        # Serialization (dumpdata) writes what is stored, never the plaintext.
        value = obj.__dict__.get(self.attname)
        return value.text if isinstance(value, Sealed) else ""

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, kwargs


Envelope = envelope.Envelope


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A short encrypted text: ``max_length`` limits the plaintext (the column is text)."""


class EncryptedTextField(EncryptedMixin, models.TextField):
    """A long encrypted text."""


class BlindIndexField(models.CharField):
    """The blind index of an encrypted field (vault.blind), kept up to date on save.

    ``kind`` chooses the normalization: "name" or "identifier".
    """

    def __init__(self, *args, of: str, kind: str = "name", **kwargs):
        self.of, self.kind = of, kind
        kwargs.setdefault("verbose_name", f"{of} index")
        kwargs.update(max_length=INDEX_LENGTH, editable=False, blank=True, db_index=True, default="")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "editable", "blank", "db_index", "default"):
            kwargs.pop(key, None)
        kwargs["of"], kwargs["kind"] = self.of, self.kind
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        source = getattr(model_instance, self.of)
        value = "" if isinstance(source, DestroyedValue) else blind_index(source, self.kind)
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Masked in the change history too: with the index key, an index confirms a guessed
        # name, and the history outlives a shredded client's keys.
        if not cls._meta.abstract and cls.__module__ != "__fake__":
            declare_sensitive(cls._meta.label_lower, name)

    def index_of(self, term: str) -> str:
        """The index a search term must equal (normalized the same way)."""
        return blind_index(term, self.kind)


def preload_keys(instances) -> None:
    """Fetch in one query the data keys that ``instances`` (and the objects loaded with them
    by ``select_related``) are encrypted under, so opening their values costs no query each."""
    from vault.keyring import preload

    key_ids, seen = set(), set()

    def collect(instance):
        if instance is None or id(instance) in seen:
            return
        seen.add(id(instance))
        for value in instance.__dict__.values():
            if isinstance(value, Sealed) and value.text.startswith(envelope.PREFIX):
                with contextlib.suppress(envelope.TamperedValue):  # reported when the value is opened
                    key_ids.add(envelope.key_id_of(value.text))
        for related in instance._state.fields_cache.values():
            collect(related)

    for instance in instances:
        collect(instance)
    preload(key_ids)


def encrypted_fields(model) -> list[EncryptedMixin]:
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted", False)]


def encrypted_models() -> list:
    from django.apps import apps

    return [model for model in apps.get_models() if encrypted_fields(model) or encrypted_file_fields(model)]


def encrypted_file_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted_file", False)]
