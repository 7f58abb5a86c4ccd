#!/usr/bin/python3
"""A loopback SMTP server for the notifier's end-to-end tests (Debian's python3-aiosmtpd).

Accepts every message and writes it to DIR as NAME.eml (the message as received) after
NAME.envelope (the envelope sender on the first line, then one recipient a line), each file
complete when it appears. Prints "smtp listening on 127.0.0.1:PORT" once it accepts
connections and runs until SIGTERM or SIGINT.

While a file named "hold" exists in DIR (at most 60 seconds), the answer to the end of a
message waits after the message is written: tests use it to stop the sender between the
server's acceptance and the sender's record of it.

With --tls-cert and --tls-key it speaks TLS: --tls starttls requires STARTTLS before a
message (smtp:// with STARTTLS), --tls implicit starts TLS on connect (smtps://).

    /usr/bin/python3 tests/support/smtp_sink.py --dir /tmp/mail [--port 2525]
        [--tls starttls|implicit --tls-cert cert.pem --tls-key key.pem]
"""

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import time

from aiosmtpd.smtp import SMTP

HOLD_LIMIT_SECONDS = 60


class Sink:
    def __init__(self, directory):
        self.directory = directory
        existing = [f for f in os.listdir(directory) if f.endswith(".eml")]
        self.numbers = itertools.count(len(existing) + 1)

    def write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)

    async def handle_DATA(self, server, session, envelope):
        name = "%06d" % next(self.numbers)
        lines = [envelope.mail_from] + list(envelope.rcpt_tos)
        self.write(name + ".envelope", ("\n".join(lines) + "\n").encode())
        self.write(name + ".eml", envelope.original_content or envelope.content)
        hold = os.path.join(self.directory, "hold")
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while os.path.exists(hold) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return "250 OK"


async def serve(directory, port, tls, cert, key):
    loop = asyncio.get_running_loop()
    sink = Sink(directory)
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    if tls == "starttls":
        server = await loop.create_server(
            lambda: SMTP(sink, hostname="sink.test", tls_context=context, require_starttls=True),
            "127.0.0.1", port)
    else:
        server = await loop.create_server(
            lambda: SMTP(sink, hostname="sink.test"), "127.0.0.1", port,
            ssl=context if tls == "implicit" else None)
    bound = server.sockets[0].getsockname()[1]
    print("smtp listening on 127.0.0.1:%d" % bound, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where messages are written")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--tls", choices=["starttls", "implicit"], help="speak TLS")
    parser.add_argument("--tls-cert", help="PEM certificate chain (with --tls)")
    parser.add_argument("--tls-key", help="PEM private key (with --tls)")
    args = parser.parse_args()
    if args.tls and not (args.tls_cert and args.tls_key):
        parser.error("--tls needs --tls-cert and --tls-key")
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args.dir, args.port, args.tls, args.tls_cert, args.tls_key))


if __name__ == "__main__":
    main()
