"""Secrets in URLs never reach the log output (feed links carry the statistic token)."""
import io
import logging

from backoffice.log_filters import redact


def _console_output(logger_name: str, message: str, *args) -> str:
    handler = next(h for h in logging.getLogger().handlers if any(
        type(f).__name__ == "RedactSecrets" for f in h.filters))
    stream, handler.stream = handler.stream, io.StringIO()
    try:
        logging.getLogger(logger_name).warning(message, *args)
        return handler.stream.getvalue()
    finally:
        handler.stream = stream


def test_a_feed_request_line_is_logged_without_its_token():
    line = _console_output("django.server", '"%s" %s %s',
                           "GET /partner/reports/feed.json?token=0046f1e2d3c4b5a6&from=2026-11-01 HTTP/1.1", 200, 512)

    assert "0046f1e2d3c4b5a6" not in line
    assert "token=[redacted]&from=2026-11-01" in line


def test_redact_keeps_everything_else():
    assert redact("/api?columns[]=visits_count&token=abc&api_key=k1") == \
        "/api?columns[]=visits_count&token=[redacted]&api_key=[redacted]"
    assert redact("no secrets here") == "no secrets here"
