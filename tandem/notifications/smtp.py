"""Sending email with aiosmtplib (a maintained asyncio SMTP client) to TANDEM_SMTP_URL.

URL forms: smtp://host:port (plain, STARTTLS if the server offers it),
smtp://user:password@host:587, smtps://host:465 (TLS from the first byte).
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from tandem.notifications.models import Email


class SmtpError(Exception):
    """The server refused the message or could not be reached (the send is retried)."""


@dataclass(frozen=True)
class SmtpMailer:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> "SmtpMailer":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("TANDEM_SMTP_URL must look like smtp://host:port or smtps://host:port")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
        )

    def send(self, message: EmailMessage) -> None:
        """Hand the message to the server; SmtpError if it was not accepted."""
        try:
            _run(self._send(message))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpError(f"{type(exc).__name__}: {exc}") from exc

    async def _send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=None if not self.use_tls else False,
            timeout=self.timeout,
        )


def _run(coroutine) -> None:
    """Run a coroutine to completion from synchronous code, even on a thread whose event
    loop is already running (then on a private thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def build_message(email: Email) -> EmailMessage:
    """A multipart/alternative message (text and HTML) with a stable Message-ID."""
    message = EmailMessage()
    message["From"] = formataddr((email.from_name, email.from_address))
    message["To"] = formataddr((email.to_name or "", email.to_address))
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(email.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message
