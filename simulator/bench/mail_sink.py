"""A loopback SMTP server that accepts every message and keeps only a count, so a load
run's receipt mails are really sent (over SMTP, PDF attached) without a mail server.

It speaks just enough of RFC 5321 for ``smtplib``: EHLO/HELO, MAIL, RCPT, DATA (ended by
a line with a single dot), RSET, NOOP, QUIT."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"


@dataclass
class MailCount:
    messages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self) -> None:
        with self.lock:
            self.messages += 1


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 stripe-sim mail sink")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 stripe-sim")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                while (data := self.rfile.readline()) and data.rstrip(b"\r\n") != b".":
                    pass
                self.server.count.add()
                self.reply("250 accepted")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    count: MailCount


class MailSink:
    def __init__(self) -> None:
        self.server = _Server((LOOPBACK, 0), _Session)
        self.server.count = MailCount()
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.2}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def messages(self) -> int:
        return self.server.count.messages

    def start(self) -> MailSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
