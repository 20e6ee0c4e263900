"""Session ids in query strings never reach the logs."""

import logging

import pytest

from chat import tokens
from chat.logfilters import RedactSessionIds, redact
from testing.servers import http_json


@pytest.mark.parametrize("path", [
    "/chat/history?session_id={t}", "/chat?x=1&session_id={t}", "/chat/history/?session%5Fid={t}",
    "/chat?SESSION_ID={t}#frag", "/chatkit?session={t}&b=2",
])
def test_session_id_query_parameters_are_redacted(path):
    token = tokens.new_token()
    out = redact(path.format(t=token))
    assert token not in out
    assert "[redacted]" in out


def test_other_query_parameters_are_kept():
    assert redact("/chat/history?after=12&limit=5") == "/chat/history?after=12&limit=5"


def test_an_access_log_record_is_redacted_in_its_arguments():
    token = tokens.new_token()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/chat/history?session_id={token}", "1.1", 404),
                               None)
    RedactSessionIds().filter(record)
    assert token not in record.getMessage()
    assert "session_id=[redacted]" in record.getMessage()


@pytest.mark.slow
def test_a_token_in_a_query_string_is_not_in_the_uvicorn_access_log(start_server):
    server = start_server(access_log=True)
    token = tokens.new_token()
    http_json(server.base, "GET", f"/chat/history?session_id={token}")
    http_json(server.base, "GET", f"/healthz?session_id={token}&x=1")
    server.stop()
    log = server.log_text()
    assert "session_id=[redacted]" in log  # access logging was on
    assert token not in log and token[:16] not in log
