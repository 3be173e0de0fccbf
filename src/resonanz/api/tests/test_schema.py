from django.core.management import call_command


def test_openapi_schema_is_valid_without_warnings(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/workspaces/{workspace_id}/posts/{post_id}/schedule/" in text
    assert "apiToken" in text
