"""What an AILabTools request must carry, through HTTP, in-process: every file field as an
uploaded file (a text value or URL where a file belongs counts as missing), the documented text
values, the API key (on submit and query); and a route under /api the vendor has."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from contracts.vocabulary import Situation
from tests.ailabtools_rig import (
    CONTRACT,
    FILES,
    HEADER,
    HEADERS,
    PATHS,
    PLAIN,
    PREMIUM,
    PRO,
    QUERY_ID,
    REFINER,
    TEXT,
    assert_error,
    file_part,
    files_of,
    query,
    submit,
    task_of,
)

# -- request fields -----------------------------------------------------------------------------

EMPTY_CASES = [
    pytest.param(endpoint, field, id=f"{endpoint}-no-{field}")
    for endpoint in PATHS
    for field in FILES[endpoint]
]


@pytest.mark.parametrize(("endpoint", "field"), EMPTY_CASES)
def test_a_missing_file_field_cannot_be_empty(client: TestClient, endpoint: str, field: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    response = submit(client, endpoint, files=files_of(endpoint, **{field: None}))
    assert_error(response, error, endpoint, f"{error.message} - {field}: Cannot be empty.")


@pytest.mark.parametrize("endpoint", list(PATHS))
def test_no_file_at_all_names_person_image(client: TestClient, endpoint: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    # At least one file part keeps the body multipart; "note" is an undocumented extra field.
    response = submit(client, endpoint, files={"note": file_part("top.png")})
    assert_error(response, error, endpoint, f"{error.message} - person_image: Cannot be empty.")


@pytest.mark.parametrize("endpoint", list(PATHS))
def test_a_text_value_where_a_file_belongs_cannot_be_empty(client: TestClient, endpoint: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {**TEXT[endpoint], "person_image": "person.png"}
    response = submit(client, endpoint, text=text, files=files_of(endpoint, person_image=None))
    assert_error(response, error, endpoint, f"{error.message} - person_image: Cannot be empty.")


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/person.png",
        "http://testserver/_mock/assets/person.png",
    ],
)
def test_a_text_url_where_a_file_belongs_is_not_a_file(client: TestClient, value: str) -> None:
    """The contract's request schemas say "A text value sent where a file belongs counts as
    missing", and live (vendor-notes B3) a person_image sent as text is read as empty. A text value
    that happens to look like a URL must not be fetched as if it had been uploaded."""
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {**TEXT[PRO], "person_image": value}
    response = submit(client, PRO, text=text, files=files_of(PRO, person_image=None))
    assert response.status_code == error.http_status, (
        "BUG mock_server/vendors/ailabtools.py AILabTools._form: a text field named like a file "
        f"field ({value!r}) is kept in the form document, passes the schema's ^https?:// pattern "
        f"and is fetched as an image; got {response.status_code} {response.text}"
    )
    assert_error(response, error, PRO, f"{error.message} - person_image: Cannot be empty.")


INVALID_CASES = [
    pytest.param(REFINER, "gender", "other", id="refiner-gender-other"),
    pytest.param(PLAIN, "clothes_type", "hat", id="plain-clothes-type-hat"),
    pytest.param(PRO, "resolution", "2048", id="pro-resolution-2048"),
    pytest.param(PREMIUM, "restore_face", "maybe", id="premium-restore-face-maybe"),
    *[pytest.param(endpoint, "task_type", "sync", id=f"{endpoint}-task-type-sync") for endpoint in PATHS],
]


@pytest.mark.parametrize(("endpoint", "field", "value"), INVALID_CASES)
def test_an_unsupported_value_is_refused(client: TestClient, endpoint: str, field: str, value: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    response = submit(client, endpoint, text={**TEXT[endpoint], field: value})
    body = assert_error(response, error, endpoint)
    assert body["error_detail"]["message"].startswith(f"{error.message} - {field}: ")


@pytest.mark.parametrize(("endpoint", "field"), [(REFINER, "gender"), (PLAIN, "clothes_type")])
def test_a_missing_required_text_field_is_refused(client: TestClient, endpoint: str, field: str) -> None:
    error = CONTRACT.error("UNSUPPORTED_PARAMETER_VALUES")
    text = {k: v for k, v in TEXT[endpoint].items() if k != field}
    response = submit(client, endpoint, text=text)
    assert_error(response, error, endpoint, f"{error.message} - {field}: Cannot be empty.")


# -- auth -----------------------------------------------------------------------------------------

AUTH_CASES = [
    pytest.param({}, "auth.missing", id="no-key"),
    pytest.param({HEADER: "   "}, "auth.missing", id="blank-key"),
    pytest.param({HEADER: "not-a-registered-key"}, "auth.invalid", id="unknown-key"),
]


@pytest.mark.parametrize(("headers", "situation"), AUTH_CASES)
@pytest.mark.parametrize("endpoint", list(PATHS))
def test_submit_auth(
    client: TestClient, endpoint: str, headers: dict[str, str], situation: Situation
) -> None:
    assert_error(submit(client, endpoint, headers=headers), CONTRACT.trigger(situation), endpoint)


@pytest.mark.parametrize(("headers", "situation"), AUTH_CASES)
def test_query_auth(client: TestClient, headers: dict[str, str], situation: Situation) -> None:
    task_id = task_of(client)
    assert_error(query(client, task_id, headers=headers), CONTRACT.trigger(situation), QUERY_ID)
    assert_error(query(client, None, headers=headers), CONTRACT.trigger(situation), QUERY_ID)


# -- unknown routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/portrait/editing/try-on-shoes"),
        ("POST", "/api/portrait/editing/try-on-shoes"),
        ("POST", "/api/common/query-async-task-result"),
        ("GET", PATHS[PRO]),
    ],
)
def test_an_unknown_route_under_api_answers_in_the_envelope(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, headers=HEADERS)
    assert_error(response, CONTRACT.trigger("route.unknown"))
