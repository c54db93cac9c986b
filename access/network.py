"""The client's address, as the last trusted proxy saw it.

Our own few lines rather than django-ipware: with a proxy count, ipware gives
up (returns no address) whenever a client prepends its own X-Forwarded-For
entries, and axes would then throttle by nothing. Here each trusted proxy is
assumed to append the address it received from, so the entry
``TRUSTED_PROXY_COUNT`` places from the right is the one no client can forge.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def throttling_address(request: HttpRequest) -> str | None:
    """The address sign-in failures are counted under: an IPv6 client counts as its /64.

    One IPv6 subscriber usually holds a whole /64; counting each address
    separately would give an attacker billions of fresh starts.
    """
    address = client_ip(request)
    if address and ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address
