"""Webhook secrets (issue 11): never a shipped dev default in production, inbound and outbound kept
apart, encrypted at rest.

- `secret` signs what the hub sends to a destination; `callback_secret` verifies what the
  destination sends back (status callbacks). A delivery replayed at the status URL therefore
  never verifies.
- A process refuses to start (exit 2) while a webhook destination's secret is unset, empty or one
  of the dev defaults shipped in config/destinations.yaml, unless LAPORHUB_ALLOW_DEV_SECRETS=1
  (the demo and the tests). Empty environment variables count as unset.
- Secrets an administrator sets or rotates are stored sealed with Fernet, under the key in
  LAPORHUB_SECRET_KEY (`laporhub secrets new-key` makes one).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from cryptography.fernet import Fernet, InvalidToken

from hub.core.destinations import Destination
from hub.core.errors import LaporHubError
from hub.settings.files import DEFAULT_DIR

ALLOW_DEV = "LAPORHUB_ALLOW_DEV_SECRETS"
KEY_VAR = "LAPORHUB_SECRET_KEY"
SEALED = "fernet:"
SECRET_OPTIONS = ("secret", "callback_secret", "api_key", "callback_api_key", "password",
                  # e-mail (issue 14): the mail gateway's inbound secret, the SMTP login, the link key
                  "inbound_email_secret", "inbound_secret", "smtp_password", "link_secret")
# Hub-wide secrets from the environment (issue 14): each verifies or signs one thing only, so none
# may be a destination's webhook secret (nor the other).
HUB_SECRETS = (("link_secret", "LAPORHUB_LINK_SECRET"), ("inbound_email_secret", "LAPORHUB_INBOUND_EMAIL_SECRET"))
DEV_MARK = b"dev-only-"  # every secret shipped in config/ decodes to bytes starting with this
_URL_WITH_PASSWORD = re.compile(r"://[^:@/\s]*:[^@/\s]+@")
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-(whsec_[A-Za-z0-9+/=]+)\}")


class SecretsError(LaporHubError):
    """Secrets are missing, dev defaults, or cannot be unsealed."""


def dev_allowed() -> bool:
    return os.environ.get(ALLOW_DEV) == "1"


@cache
def shipped_defaults(directory: Path = DEFAULT_DIR) -> frozenset[str]:
    """The `${VAR:-whsec_…}` defaults written in the shipped config/destinations.yaml."""
    path = directory / "destinations.yaml"
    return frozenset(_DEFAULT.findall(path.read_text(encoding="utf-8"))) if path.exists() else frozenset()


def is_dev_secret(secret: str) -> bool:
    if secret in shipped_defaults():
        return True
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True).startswith(DEV_MARK)
    except ValueError:
        return False


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def webhook_secrets(destinations: Iterable[Destination]) -> set[str]:
    """Every destination's signing and callback secrets (each of a rotation's list)."""
    return {v for d in destinations for option in ("secret", "callback_secret")
            for v in _values(d.options.get(option)) if v.strip()}


def reused(value: str, destinations: Iterable[Destination]) -> bool:
    """Is this hub-wide secret also a destination's webhook secret (sealed or not)?"""
    return bool(value) and value in {unseal(v) if v.startswith(SEALED) else v for v in webhook_secrets(destinations)}


def hub_problems(settings: Any, destinations: Iterable[Destination]) -> list[str]:
    """The hub-wide secrets of e-mail destinations: the action-link key and the mail gateway's
    inbound secret are never a destination's webhook secret, nor each other, nor (the inbound
    one, which a gateway outside the hub holds) a dev default."""
    dests = list(destinations)
    out = []
    values = {name: str(getattr(settings, name, "") or "") for name, _ in HUB_SECRETS}
    for name, var in HUB_SECRETS:
        if reused(values[name], dests):
            out.append(f"{var} is also a destination's webhook secret: give it its own")
    if values["link_secret"] and values["link_secret"] == values["inbound_email_secret"]:
        out.append("LAPORHUB_LINK_SECRET and LAPORHUB_INBOUND_EMAIL_SECRET are the same: give each its own")
    if values["inbound_email_secret"] and is_dev_secret(values["inbound_email_secret"]):
        out.append("LAPORHUB_INBOUND_EMAIL_SECRET is a dev secret (set the mail gateway's own whsec_ secret)")
    return out


def problems(destinations: Iterable[Destination], settings: Any = None) -> list[str]:
    """One line per webhook destination whose signing or callback secret may not be used (and,
    given the settings, per hub-wide secret that may not be)."""
    destinations = list(destinations)
    out = hub_problems(settings, destinations) if settings is not None else []
    for d in destinations:
        if d.adapter != "webhook":
            continue
        for option, var in (("secret", "WEBHOOK_SECRET"), ("callback_secret", "CALLBACK_SECRET")):
            values = [v for v in _values(d.options.get(option)) if v.strip()]
            if option == "callback_secret" and d.kind == "channel":
                continue  # a citizen channel's backend only receives; it sends no callbacks
            if not values:
                out.append(f"{d.id}: options.{option} is unset or empty (set its *_{var})")
            elif any(is_dev_secret(v) for v in values):
                out.append(f"{d.id}: options.{option} is a shipped dev default (set its *_{var})")
    return out


def check(destinations: Iterable[Destination], settings: Any = None) -> None:
    """Raise SecretsError naming each destination, unless dev secrets are allowed."""
    found = problems(destinations, settings)
    if not dev_allowed() and not os.environ.get(KEY_VAR, "").strip():
        found.append(f"{KEY_VAR} is unset: webhook secrets cannot be encrypted at rest "
                     "(`laporhub secrets new-key` makes one)")
    if found and not dev_allowed():
        raise SecretsError("refusing to start: webhook secrets are not set for production "
                           f"({ALLOW_DEV}=1 allows the dev defaults):\n  " + "\n  ".join(found))


# -- at rest -----------------------------------------------------------------------------------------

def _fernet() -> Fernet:
    key = os.environ.get(KEY_VAR, "").strip()
    if not key:
        if not dev_allowed():
            raise SecretsError(f"{KEY_VAR} is unset: cannot seal or unseal a stored secret")
        # Dev and tests only: a fixed key, so every process of a dev hub reads the others' secrets.
        key = base64.urlsafe_b64encode(hashlib.sha256(b"laporhub dev-only sealing key").digest()).decode()
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise SecretsError(f"{KEY_VAR} is not a Fernet key (32 url-safe base64 bytes)") from exc


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(value: str) -> str:
    if value.startswith(SEALED):
        return value
    return SEALED + _fernet().encrypt(value.encode()).decode()


def unseal(value: str) -> str:
    if not value.startswith(SEALED):
        return value
    try:
        return _fernet().decrypt(value[len(SEALED):].encode()).decode()
    except InvalidToken:
        raise SecretsError(f"a stored secret does not decrypt with {KEY_VAR}: was the key changed?") from None


def _map(options: Mapping[str, Any], fn: Any) -> dict[str, Any]:
    """`fn` on every secret option, and on every URL option that carries a password."""
    out = dict(options)
    for k, v in out.items():
        if k in SECRET_OPTIONS or (isinstance(v, str) and (_URL_WITH_PASSWORD.search(v) or v.startswith(SEALED))):
            if isinstance(v, str) and v:
                out[k] = fn(v)
            elif isinstance(v, list):
                out[k] = [fn(x) if isinstance(x, str) and x else x for x in v]
    return out


def seal_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Adapter options as stored: every secret, api key and password sealed."""
    return _map(options, seal)


def unseal_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return _map(options, unseal)
