"""What adapters are handed (hub/pipeline/context.py): the action-link signer's key is the hub's
own, sealed at rest in the store and the same for every process, and never a destination's
webhook secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.infra.keyring import hub_secrets
from hub.pipeline.context import adapter_context, links
from hub.settings import secrets
from tests.harness import make_hub


def test_the_link_key_made_by_the_hub_is_sealed_at_rest_and_shared(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = make_hub("memory://localhost/", url, "links-a")
    signer = links(hub)
    with hub.store.engine.connect() as conn:
        stored = conn.execute(sa.select(hub_secrets.c.value).where(hub_secrets.c.name == "action-links")).scalar_one()
    assert stored.startswith(secrets.SEALED) and signer.secret.decode() not in stored
    assert secrets.unseal(stored) == signer.secret.decode()
    other = make_hub("memory://localhost/", url, "links-b", public_url="http://other.test")  # another process
    token = signer.token("d-1", "c-1", "kel-x", "acknowledge")
    assert links(other).check(token).delivery_id == "d-1"
    hub.store.engine.dispose()
    other.store.engine.dispose()


def test_a_webhook_secret_is_never_the_link_key(tmp_path: Path) -> None:
    probe = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'probe.db'}", "links-c")
    webhook_secret = probe.config.registry.get("pam-jaya").options["secret"]
    webhook_secret = webhook_secret[0] if isinstance(webhook_secret, list) else webhook_secret
    probe.store.engine.dispose()
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "links-d", link_secret=webhook_secret)
    with pytest.raises(secrets.SecretsError, match="action links need a key of their own"):
        links(hub)
    # Webhooks still go out; only an adapter that writes links (e-mail) goes without a signer.
    assert adapter_context(hub, None).links is None
    hub.store.engine.dispose()
