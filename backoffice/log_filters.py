"""Logging filters of the whole program.

RedactSecrets: the statistic token travels in feed and Report API URLs (`?token=...`, as
Affilka's feed links do), so request lines logged by the development server or any other
logger would carry it. Every record passing the console handler has such values replaced
before it is written.
"""
import logging
import re

_SECRET_PARAMS = re.compile(r"(?i)\b(token|api_key|apikey|access_id|secret|signature|sign)=([^&\s\"']+)")


def redact(text: str) -> str:
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
