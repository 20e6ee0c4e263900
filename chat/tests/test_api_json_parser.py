"""The request body parser (``BoundedJSONParser``) against hostile JSON."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/chat", "/chat/history"])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_a_400_invalid_json_not_a_500(client, path, opening):
    depth = 40_000  # far past the recursion limit, under the 256 KB body limit
    closing = "]" if opening == "[" else "}"
    body = (opening * depth + "1" + closing * depth).encode()
    response = client.generic("POST", path, body, content_type="application/json",
                              headers={"accept": "text/event-stream"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert "deeply" in error["message"]


def test_moderately_nested_json_still_reaches_validation(client):
    body = ('{"message": "hi", "extra": ' + "[" * 20 + "]" * 20 + "}").encode()
    response = client.generic("POST", "/chat/history", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] != "invalid_json"
