#!/usr/bin/env python3
"""A local SMTP server (aiosmtpd) that writes each message it receives to DIR as one .eml file.

    smtp-to-files.py --port 2525 --dir .run/8080/mail [--host 127.0.0.1] [--reject-first N] [--drop-first N]
                     [--tls-cert cert.pem --tls-key key.pem] [--user U --password-file F]

The local run (deploy/local/run.sh) delivers perch's mails here when no relay is configured, so the same SMTP
path runs and a developer reads the mails as files. The tests use it as a real SMTP server, including one
that answers the first N messages with a temporary failure (451) or drops the connection at them, and one
that requires STARTTLS (--tls-cert/--tls-key) and authentication (--user/--password-file).
It stops on TERM or INT. Binds to loopback only.
"""
import argparse
import asyncio
import os
import signal
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class ToFiles:
    def __init__(self, folder, reject_first, drop_first):
        self.folder = folder
        self.reject_left = reject_first
        self.drop_left = drop_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.drop_left > 0:
            self.drop_left -= 1
            session.transport.close()  # the connection ends before any reply to the message
            return "421 closing"
        if self.reject_left > 0:
            self.reject_left -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        name = "%d-%06d.eml" % (time.time_ns(), self.count)
        partial = os.path.join(self.folder, "." + name)
        with open(partial, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(partial, os.path.join(self.folder, name))  # a reader never sees half a file
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--reject-first", type=int, default=0)
    parser.add_argument("--drop-first", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = ToFiles(args.dir, args.reject_first, args.drop_first)
    options = {"decode_data": False}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        with open(args.password_file, "rb") as f:
            password = f.read().rstrip(b"\n")

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode() and auth_data.password == password
            return AuthResult(success=ok)

        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=bool(args.tls_cert))
    controller = Controller(handler, hostname=args.host, port=args.port, server_kwargs=options)
    controller.start()
    print("smtp-to-files: listening on %s:%d, writing to %s" % (args.host, args.port, args.dir), flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
