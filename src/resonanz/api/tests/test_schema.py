import json
from typing import Any

from django.core.management import call_command


def test_openapi_schema_is_valid_without_warnings(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/workspaces/{workspace_id}/posts/{post_id}/schedule/" in text
    assert "apiToken" in text


def _schema(tmp_path) -> dict[str, Any]:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    schema: dict[str, Any] = json.loads(out.read_text())
    return schema


def test_schema_matches_the_posts_list_idempotency_and_actions(tmp_path, api, workspace) -> None:
    """Issue 8: the posts list answers a page envelope, so the schema says so; POSTs that honour
    Idempotency-Key document the header; the variant actions are listed (and named in the error)."""
    schema = _schema(tmp_path)
    paths = schema["paths"]
    listing = paths["/api/v1/workspaces/{workspace_id}/posts/"]
    ok = listing["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    body = api.get(f"/api/v1/workspaces/{workspace.pk}/posts/").json()
    assert set(body) == set(page["properties"])  # what the server answers is what the schema says
    headers = [p["name"] for p in listing["post"]["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    action = paths["/api/v1/workspaces/{workspace_id}/variants/{variant_id}/{action}/"]["post"]
    [param] = [p for p in action["parameters"] if p["name"] == "action"]
    assert sorted(param["schema"]["enum"]) == ["delete", "edit", "repost", "retry"]


def test_posts_list_refuses_a_channel_that_is_not_a_number(api, workspace) -> None:
    response = api.get(f"/api/v1/workspaces/{workspace.pk}/posts/", {"channel": "x"})
    assert response.status_code == 400  # was a 500 (int("x"))
    assert "channel" in response.json()


def test_an_unknown_variant_action_names_the_valid_ones(api, workspace, mastodon) -> None:
    created = api.post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [mastodon.pk]},
        format="json",
    ).json()
    variant_id = created["variants"][0]["id"]
    response = api.post(f"/api/v1/workspaces/{workspace.pk}/variants/{variant_id}/frobnicate/", format="json")
    assert response.status_code == 404
    assert "delete, edit, retry, repost" in response.json()["detail"]


def test_every_operation_documents_the_shared_error_answers(tmp_path) -> None:
    """Issue 8 #6: the error answers of the shared plumbing are documented on every operation, once
    (api/schema.py), with the one error shape."""
    schema = _schema(tmp_path)
    assert schema["components"]["schemas"]["Error"]["required"] == ["code"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "429"} | ({"409", "422"} if method != "get" else set())
            assert expected <= set(operation["responses"]), (method, path)


def test_an_address_without_route_under_the_api_answers_json(api, workspace) -> None:
    response = api.get(f"/api/v1/workspaces/{workspace.pk}/ads/budgets/-1/")  # <int:> takes no sign
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    assert "text/html" in api.get("/no-such-page/").headers["Content-Type"]  # the UI keeps its page


def test_an_id_out_of_range_is_invalid_input_not_a_server_error(api, workspace, mastodon) -> None:
    response = api.post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [mastodon.pk, 9883493251065006080]},
        format="json",
    )
    assert response.status_code == 400  # was a 500: the number overflows the database's integer
    assert "channel_ids" in response.json()


def test_a_bare_list_error_gets_the_error_shape(api, workspace) -> None:
    response = api.get(f"/api/v1/workspaces/{workspace.pk}/ads/spend/", {"since": "gestern"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert isinstance(body["detail"], list)
