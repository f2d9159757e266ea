"""Which addresses are on the public internet: the guard that keeps feeds (and
whatever a feed or a redirect names) from reaching inside the network."""

from __future__ import annotations

import ipaddress

NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765's ::ffff:0:a.b.c.d


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and would reach: mapped, translated,
    6to4, Teredo (server and client), and NAT64."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in IPV4_TRANSLATED or any(ip in prefix for prefix in NAT64_PREFIXES):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_public_address(address: str) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local…),
    including every IPv4 address an IPv6 one embeds: ``::ffff:0:127.0.0.1``, a 6to4
    ``2002:7f00:1::`` or a NAT64 ``64:ff9b::10.0.0.1`` must not reach inside. The
    deprecated IPv4-compatible form (``::127.0.0.1``, RFC 4291) is never public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if int(ip) >> 32 == 0:
            return False  # ::, ::1 and ::a.b.c.d: unspecified, loopback, IPv4-compatible
        inner = embedded_ipv4(ip)
        if inner:
            return all(part.is_global and not part.is_multicast for part in inner)
    return ip.is_global and not ip.is_multicast
