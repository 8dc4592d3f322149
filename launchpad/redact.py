"""Keep credentials out of logs, errors and output."""

import re

_URI_CREDENTIALS = re.compile(r"(mongodb(?:\+srv)?://)([^@/]+)@")


def redact_uri(uri):
    """``mongodb://user:secret@host`` -> ``mongodb://***@host``."""
    return _URI_CREDENTIALS.sub(r"\1***@", str(uri))


def redact_text(text, secrets=()):
    """Replace URI credentials and each known secret in ``text``."""
    text = redact_uri(text)
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "***")
    return text
