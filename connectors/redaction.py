"""Keep secrets out of logs and error messages."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAMS = {"servicekey", "apikey", "api_key", "key", "token", "access_token", "password"}


def redact_url(url: str, secrets: list[str] | None = None) -> str:
    """The URL with credential-like query values and any known secret replaced by ``***``."""
    parts = urlsplit(url)
    query = [
        (name, "***" if name.lower() in _SECRET_PARAMS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
    redacted = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))
    for secret in secrets or []:
        if secret:
            redacted = redacted.replace(secret, "***")
    return redacted
