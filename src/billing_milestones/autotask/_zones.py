"""Where Autotask requests go: the REST base of a zone, and which hosts may receive the credentials.

Every Autotask request carries the Secret and the integration code, so the host is a trust decision, not a
detail. The vendor's zones all live under ``autotask.net``; a host elsewhere is only used when the caller named
it (an explicit ``base_url`` or ``discovery_url``: a sandbox, a proxy). A zoneInformation answer, which anyone
between us and the discovery host could forge, never widens that set.

The zone URL the vendor hands out ends in ``ATServicesRest/`` and every operation lives under ``V1.0``; a base
given as that zone URL, or as a bare host, is completed to ``.../ATServicesRest/V1.0`` (without it every call
is a 404 "No HTTP resource was found").
"""

from __future__ import annotations

from typing import Final

import httpx

from .. import errors
from .._http import Operation, RequestSpec
from .._http._core import without_userinfo
from . import _envelopes as env
from .wire import ZoneInformation

__all__ = [
    "DEFAULT_DISCOVERY_URL",
    "VENDOR_DOMAIN",
    "discovery_base",
    "explicit_base",
    "is_vendor_host",
    "rest_base",
    "zone_api_base",
    "zone_operation",
]

#: Any zone answers zoneInformation; this host is the documented entry point.
DEFAULT_DISCOVERY_URL: Final = "https://webservices.autotask.net"
#: Every zone the vendor runs (``webservicesN.autotask.net``) is under this domain.
VENDOR_DOMAIN: Final = "autotask.net"
_REST_ROOT: Final = "atservicesrest"
_VERSION: Final = "v1.0"


def checked_url(text: str, what: str) -> httpx.URL:
    """An absolute http(s) URL with a host and no user name or password in it (see ``check_base_url``),
    else a ConfigError naming ``what`` that shows the URL without them."""
    shown = without_userinfo(text)
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise errors.ConfigError(f"{what}: {shown!r} is not a URL ({exc})", key=what) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise errors.ConfigError(f"{what}: expected an absolute http(s) URL, got {shown!r}", key=what)
    if url.userinfo:
        raise errors.ConfigError(
            f"{what}: {shown!r} carries a user name or password; give the credentials to the client instead",
            key=what,
        )
    return url


def rest_base(text: str, what: str) -> httpx.URL:
    """``https://host`` and ``https://host/ATServicesRest/`` -> ``https://host/ATServicesRest/V1.0``.

    A base already ending in ``V1.0`` is kept (any casing: the server ignores it), and so is any other path,
    which can only be a proxy's own layout that the caller chose."""
    url = checked_url(text.strip().rstrip("/"), what)
    path = url.path.rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    if not path:
        path = "/ATServicesRest/V1.0"
    elif last == _REST_ROOT:
        path += "/V1.0"
    return url.copy_with(path=path)


def discovery_base(discovery_url: str) -> httpx.URL:
    """The REST base zoneInformation is asked at (``https://webservices.autotask.net`` by default)."""
    return rest_base(discovery_url, "discovery_url")


def explicit_base(base_url: str | httpx.URL) -> httpx.URL:
    """The caller's ``base_url`` (or ``AUTOTASK_BASE_URL``), completed like a discovered zone."""
    return rest_base(str(base_url), "base_url")


def is_vendor_host(host: str) -> bool:
    """``autotask.net`` or a host under it; ``evilautotask.net`` and ``autotask.net.example`` are not."""
    name = host.lower().rstrip(".")
    return name == VENDOR_DOMAIN or name.endswith("." + VENDOR_DOMAIN)


def zone_operation(username: str, discovery: httpx.URL) -> Operation[ZoneInformation]:
    """Unauthenticated: zoneInformation needs only the user name, so no Secret travels to the discovery host
    (an absolute URL at ``discovery``, sent by the zone's own runner before the zone is known)."""
    url = f"{str(discovery).rstrip('/')}/zoneInformation"
    spec = RequestSpec("GET", url, params={"user": username}, authenticated=False)
    return Operation(spec, lambda r: ZoneInformation.model_validate(env.body_of(r)))


def zone_api_base(zone: ZoneInformation, discovery: httpx.URL) -> httpx.URL:
    """The zone's REST base, refused (ConfigError naming the host, nothing sent) unless it is trusted: under
    ``autotask.net``, or the discovery host the caller configured. An https discovery never downgrades."""
    url = rest_base(zone.url, "zoneInformation.url")
    host = url.host.lower()
    if not (is_vendor_host(host) or host == discovery.host.lower()):
        raise errors.ConfigError(
            f"zoneInformation named the zone host {url.host!r}, which is outside the vendor's domain "
            f"(*.{VENDOR_DOMAIN}) and not the configured discovery host {discovery.host!r}; refusing to send "
            "credentials there. Pass base_url= (or AUTOTASK_BASE_URL) to use that host on purpose",
            key="zoneInformation.url",
        )
    if discovery.scheme == "https" and url.scheme != "https":
        raise errors.ConfigError(
            f"zoneInformation returned a non-https zone URL {zone.url!r}; refusing it", key="zoneInformation.url"
        )
    return url
