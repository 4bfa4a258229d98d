"""Interop peer: an aiosmtpd server with STARTTLS and AUTH that saves what it receives.

Usage: python3 aiosmtpd_upstream.py CERT KEY OUTDIR USER PASSWORD
                                    [--size N] [--smtputf8] [--auth-param]
Prints "listening on 127.0.0.1:PORT" and serves until stdin closes. Each message is
saved as OUTDIR/N.eml (the bytes received after dot-unstuffing) with N.env holding the
envelope as JSON.

Its extensions are narrower than the relay's: no DSN, CHUNKING, BINARYMIME or
REQUIRETLS; SIZE only with --size (aiosmtpd's data_size_limit); SMTPUTF8 only with
--smtputf8. Stock aiosmtpd offers AUTH but answers 555 to AUTH= on MAIL; with
--auth-param it takes the parameter (RFC 4954 5) and saves it with the mail options.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Saver:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.outdir, str(self.n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options}, f)
        return "250 2.0.0 Saved"


class AuthParamSMTP(SMTP):
    """Takes AUTH= on MAIL off the line before aiosmtpd checks the parameters."""

    async def smtp_MAIL(self, arg):
        words = (arg or "").split(" ")
        auth = [w for w in words if w.upper().startswith("AUTH=")]
        rest = " ".join(w for w in words if not w.upper().startswith("AUTH="))
        await super().smtp_MAIL(rest if arg is not None else None)
        if auth and self.envelope is not None and self.envelope.mail_from:
            self.envelope.mail_options.extend(auth)


class AuthParamController(Controller):
    def factory(self):
        return AuthParamSMTP(self.handler, **self.SMTP_kwargs)


def main():
    ap = argparse.ArgumentParser()
    for name in ("cert", "key", "outdir", "user", "password"):
        ap.add_argument(name)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--smtputf8", action="store_true")
    ap.add_argument("--auth-param", action="store_true")
    a = ap.parse_args()
    cert, key, outdir, user, password = a.cert, a.key, a.outdir, a.user, a.password
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    kind = AuthParamController if a.auth_param else Controller
    controller = kind(Saver(outdir), hostname="127.0.0.1", port=port,
                      tls_context=ctx, require_starttls=True,
                      authenticator=authenticator, auth_required=True,
                      auth_require_tls=True, decode_data=False,
                      data_size_limit=a.size, enable_SMTPUTF8=a.smtputf8)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
