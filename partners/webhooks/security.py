"""Where a webhook may point, and how it is reached.

A URL is checked when registered and again at every attempt, on the addresses its host
resolves to *then* (a name can be re-pointed after registration); the connection goes to
the address that was checked, never to a second lookup, so DNS cannot swap it in between.
"""

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why (translated)."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # ipaddress's public properties cover the private, loopback, link-local, multicast,
    # reserved and unspecified ranges, IPv4-mapped IPv6 included (via ipv4_mapped).
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not address.is_global or address.is_multicast


def check_url(url: str) -> list[tuple[str, int]]:
    """Refuse a URL that may not receive webhooks; return the checked (address, port)s.

    https only (http under DEBUG or REGISTRY_WEBHOOK_ALLOW_HTTP); no credentials in the
    URL; every address the host resolves to must be public unless
    REGISTRY_WEBHOOK_ALLOW_PRIVATE."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if settings.REGISTRY_WEBHOOK_ALLOW_HTTP else {"https"}
    if scheme not in allowed:
        raise UnsafeURL(_("The URL must start with https://."))
    if parts.username or parts.password:
        raise UnsafeURL(_("The URL may not contain a user name or password."))
    host = parts.hostname
    if not host:
        raise UnsafeURL(_("The URL has no host."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("The URL's port is not valid.")) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(_("The host name %(host)s cannot be resolved.") % {"host": host}) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if _forbidden(address) and not settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE:
            raise UnsafeURL(
                _("The URL resolves to a private, loopback or link-local address (%(address)s).")
                % {"address": address}
            )
        if (str(address), port) not in addresses:
            addresses.append((str(address), port))
    if not addresses:
        raise UnsafeURL(_("The host name %(host)s cannot be resolved.") % {"host": host})
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the host name says."""

    def __init__(self, host, *, address, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection(self._address, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: certificate and SNI checked against the host name."""

    def __init__(self, host, *, address, **kwargs):
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection(self._address, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    """POST `body` to `url` after `check_url`; redirects are not followed (a redirect could
    lead anywhere). Returns the status code and at most the configured number of bytes of
    the answer. Raises UnsafeURL, OSError or http.client.HTTPException."""
    parts = urlsplit(url)
    address = check_url(url)[0]
    connection_class = (
        _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(
        parts.hostname,
        port=address[1],
        address=address,
        timeout=settings.REGISTRY_WEBHOOK_TIMEOUT,
    )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(settings.REGISTRY_WEBHOOK_MAX_RESPONSE_BYTES)
        return response.status, answer
    finally:
        connection.close()
