from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from matters.keys import KeyActionRefused, approve_shredding, cancel_shredding, request_shredding
from matters.models import Client, ClientShredding, ShreddingStatus


class Command(BaseCommand):
    help = (
        "Crypto-shred a client whose retention has ended: --request as one person, then --approve as "
        "another (two different people, each the security officer or an administrator), or --cancel. "
        "Without an action, says where the client's shredding stands. Prints client codes only."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="The client's code.")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--request", action="store_true", help="Ask for the client's keys to be destroyed.")
        action.add_argument("--approve", action="store_true", help="Approve the pending request: destroys the keys.")
        action.add_argument("--cancel", action="store_true", help="Withdraw the pending request.")
        parser.add_argument("--as", dest="username", help="Username of the person doing it (required for an action).")

    def handle(self, *args, code: str, request=False, approve=False, cancel=False, username=None, **options):
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise CommandError(f"No client has the code {code!r}.")
        if not (request or approve or cancel):
            self.stdout.write(self._status(client))
            return
        actor = self._actor(username)
        pending = ClientShredding.objects.filter(client=client, status=ShreddingStatus.PENDING).first()
        try:
            if request:
                request_shredding(actor=actor, client=client)
            elif pending is None:
                raise CommandError(f"{code}: no request to destroy its keys is awaiting approval.")
            elif approve:
                approve_shredding(actor=actor, shredding=pending)
            else:
                cancel_shredding(actor=actor, shredding=pending)
        except KeyActionRefused as refusal:
            raise CommandError(f"{code}: {refusal.message}") from None
        self.stdout.write(self._status(Client.objects.get(pk=client.pk)))

    def _actor(self, username):
        if not username:
            raise CommandError("Say who is doing it: --as USERNAME (the two-person rule needs names).")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        return user

    def _status(self, client: Client) -> str:
        if client.shredded_at:
            return f"{client.code}: keys destroyed at {client.shredded_at:%Y-%m-%d %H:%M}"
        pending = ClientShredding.objects.filter(client=client, status=ShreddingStatus.PENDING).first()
        if pending:
            return f"{client.code}: destruction requested by {pending.requested_by.get_username()}, awaiting approval"
        return f"{client.code}: not shredded (legal hold: {'yes' if client.legal_hold else 'no'})"
