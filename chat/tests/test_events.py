"""``chat.events``: the turn's own events on the wire, and a turn collected into a ``Reply``."""

from chat.events import QuestionStored, Reply, SessionStarted, TurnDone, TurnError
from chat.sse import encode_event, parse_events
from rag.types import Delta, Notice, Sources, collect


async def stream(*events):
    for event in events:
        yield event


def test_turn_events_encode_as_the_documented_sse_events():
    events = [SessionStarted(session_id="tok", created=True), QuestionStored(user_message_id=4),
              Delta('say "hi"\n'),
              TurnDone(message_id=5, status="complete", history_saved=True, refused=False,
                       replayed=False),
              TurnError(code="llm_timeout", message="Slow.", retryable=True, retry_after=2,
                        message_id=5)]
    assert parse_events(b"".join(encode_event(e) for e in events)) == [
        ("session", {"session_id": "tok", "created": True}),
        ("message", {"user_message_id": 4}),
        ("delta", {"text": 'say "hi"\n'}),
        ("done", {"message_id": 5, "status": "complete", "history_saved": True,
                  "refused": False, "replayed": False}),
        ("error", {"code": "llm_timeout", "message": "Slow.", "retryable": True,
                   "retry_after": 2, "message_id": 5}),
    ]


async def test_a_finished_turn_collects_into_a_reply_with_what_was_stored():
    reply = await collect(stream(
        SessionStarted(session_id="tok", created=False), QuestionStored(user_message_id=4),
        Sources(sources=[], refused=True), Notice(code="n", message="m"), Delta("No."),
        TurnDone(message_id=5, status="complete", history_saved=True, refused=True,
                 replayed=True),
    ), Reply())
    assert (reply.session_id, reply.session_created, reply.user_message_id, reply.message_id,
            reply.status, reply.history_saved, reply.replayed, reply.refused, reply.text) == (
        "tok", False, 4, 5, "complete", True, True, True, "No.")
    assert reply.error is None


async def test_a_failed_turn_collects_the_error_with_its_stored_partial_answer():
    error = TurnError(code="llm_unavailable", message="Down.", retryable=False, message_id=9)
    reply = await collect(stream(SessionStarted(session_id=None, created=False),
                                 QuestionStored(user_message_id=None), Delta("Part"), error),
                          Reply())
    assert reply.error == error and reply.message_id == 9 and reply.text == "Part"
    assert reply.session_id is None and not reply.history_saved
