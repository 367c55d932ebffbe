"""`laporhub mailgate`: the city mail server's side of replies by e-mail. Postfix (or any MTA)
pipes each message for the reply mailbox into it; it signs the message with the gateway secret
and posts it to the hub, and its exit code tells the MTA what to do (sysexits):

    # /etc/postfix/master.cf
    laporhub  unix  -  n  n  -  -  pipe
      flags=q user=laporhub argv=/opt/laporhub/bin/laporhub mailgate --url https://hub.jakarta.go.id
    # /etc/postfix/transport:  balas@laporhub.jakarta.go.id  laporhub:

0: recorded; 67 (EX_NOUSER): the hub refused it (unmatched, automatic, a status not allowed now),
so the MTA bounces it with the hub's reason; 75 (EX_TEMPFAIL): the hub did not answer, try later.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from typing import Any

import requests

from hub.core import signing

EX_OK, EX_NOUSER, EX_TEMPFAIL, EX_CONFIG = 0, 67, 75, 78


def cmd_mailgate(args: argparse.Namespace) -> int:
    secret = os.environ.get("LAPORHUB_INBOUND_EMAIL_SECRET", "")
    if not secret.startswith("whsec_"):
        print("LAPORHUB_INBOUND_EMAIL_SECRET (whsec_...) is not set", file=sys.stderr)
        return EX_CONFIG
    raw = sys.stdin.buffer.read()
    url = (args.url or os.environ.get("LAPORHUB_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")
    headers = {"content-type": "message/rfc822", **signing.headers([secret], f"msg_{uuid.uuid4().hex}", raw)}
    try:
        resp = requests.post(f"{url}/v1/inbound/email", data=raw, headers=headers, timeout=args.timeout)
    except requests.RequestException as exc:
        print(f"the hub at {url} did not answer: {exc.__class__.__name__}; try later", file=sys.stderr)
        return EX_TEMPFAIL
    try:
        body: Any = resp.json()
    except ValueError:
        body = {"message": resp.text[:200]}
    message = body.get("message", "") if isinstance(body, dict) else ""
    if resp.status_code == 200:
        print(f"laporhub: {message}")
        return EX_OK
    if resp.status_code >= 500 or resp.status_code in (401, 408, 429):  # 401: secrets out of step; fix, retry
        print(f"laporhub answered {resp.status_code}: {message}; try later", file=sys.stderr)
        return EX_TEMPFAIL
    print(f"LaporHub could not record this reply: {message}", file=sys.stderr)
    return EX_NOUSER


def add_commands(sub: Any) -> None:
    s = sub.add_parser("mailgate", help="post a reply e-mail from stdin to the hub, signed (an MTA pipe command)")
    s.add_argument("--url", help="the hub's base URL (default LAPORHUB_PUBLIC_URL)")
    s.add_argument("--timeout", type=float, default=30.0)
    s.set_defaults(fn=cmd_mailgate)
