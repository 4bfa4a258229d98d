"""Interop peer: Python's smtplib sends messages described by a JSON file.

Usage: python3 smtplib_send.py PLAN.json

PLAN: {"host", "port", "tls": "starttls"|"implicit"|"none", "auth": "PLAIN"|"LOGIN"|null,
       "user", "password", "connections": [[{"from", "to": [...], "file", "options": [...]}]]}
Each inner list is sent over one connection. Exits 1 on the first failure.
"""
import json
import smtplib
import ssl
import sys


def main():
    plan = json.load(open(sys.argv[1]))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for messages in plan["connections"]:
        if plan["tls"] == "implicit":
            s = smtplib.SMTP_SSL(plan["host"], plan["port"], context=ctx, timeout=30)
        else:
            s = smtplib.SMTP(plan["host"], plan["port"], timeout=30)
        s.ehlo("interop.example")
        if plan["tls"] == "starttls":
            code, _ = s.starttls(context=ctx)
            assert code == 220, code
            s.ehlo("interop.example")
        if plan.get("auth"):
            s.user, s.password = plan["user"], plan["password"]
            mech = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login}[plan["auth"]]
            code, text = s.auth(plan["auth"], mech)
            assert code == 235, (code, text)
        for m in messages:
            body = open(m["file"], "rb").read()
            refused = s.sendmail(m["from"], m["to"], body, mail_options=m.get("options", []))
            assert not refused, refused
            print("sent", m["file"], flush=True)
        s.quit()


if __name__ == "__main__":
    main()
