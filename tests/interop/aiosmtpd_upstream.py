"""Interop peer: an aiosmtpd server with STARTTLS and AUTH that saves what it receives.

Usage: python3 aiosmtpd_upstream.py CERT KEY OUTDIR USER PASSWORD
Prints "listening on 127.0.0.1:PORT" and serves until stdin closes. Each message is
saved as OUTDIR/N.eml (the bytes received after dot-unstuffing) with N.env holding the
envelope as JSON.
"""
import asyncio
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


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


def main():
    cert, key, outdir, user, password = sys.argv[1:6]
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
    controller = Controller(Saver(outdir), hostname="127.0.0.1", port=port,
                            tls_context=ctx, require_starttls=True,
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=True, decode_data=False)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
