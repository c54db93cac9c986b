"""Which address a sign-in is throttled and recorded under, behind proxies or not."""

import pytest
from django.test import RequestFactory

from access.network import client_ip

rf = RequestFactory()


def _request(forwarded=None, remote="10.0.0.2"):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return rf.get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_a_forged_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("203.0.113.9")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("forwarded", "hops", "expected"),
    [
        ("198.51.100.7", 1, "198.51.100.7"),  # the proxy appended the client's address
        ("6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),  # the client's own prefix is not believed
        ("6.6.6.6, 198.51.100.7, 192.0.2.1", 2, "198.51.100.7"),  # two proxies, each appending
    ],
)
def test_behind_proxies_the_entry_the_nearest_proxies_wrote_counts(settings, forwarded, hops, expected):
    settings.TRUSTED_PROXY_COUNT = hops
    assert client_ip(_request(forwarded)) == expected


def test_a_missing_or_malformed_header_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request()) == "10.0.0.2"
    assert client_ip(_request("not-an-address")) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(_request("198.51.100.7")) == "10.0.0.2"


def test_axes_records_failed_sign_ins_under_the_client_address(client, settings, db):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        "/account/sign-in/",
        {"username": "mallory", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",
        REMOTE_ADDR="10.0.0.2",
    )
    assert AccessAttempt.objects.get(username="mallory").ip_address == "198.51.100.7"
