"""Which addresses are public: the private-network guard's table."""

from __future__ import annotations

import pytest

from monitor.addresses import is_public_address


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        # IPv6 forms that carry an inner IPv4 address: judged by the inner one.
        ("::ffff:0:127.0.0.1", False),  # IPv4-translated (RFC 2765)
        ("::ffff:0:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254 (cloud metadata)
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("64:ff9b::10.0.0.1", False),  # NAT64 of a private address
        ("64:ff9b::127.0.0.1", False),
        ("64:ff9b:1::192.168.0.1", False),  # local-use NAT64
        ("64:ff9b::8.8.8.8", True),
        # The deprecated IPv4-compatible form (RFC 4291): never public.
        ("::127.0.0.1", False),
        ("::10.0.0.1", False),
        ("::8.8.8.8", False),
        ("::", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public
