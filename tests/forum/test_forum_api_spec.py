"""The forum routes are documented in the OpenAPI spec."""


def test_forum_routes_are_in_the_spec_with_summaries(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/forum/boards", "get"),
        ("/api/v1/forum/boards/{board_id}/threads", "post"),
        ("/api/v1/forum/threads/{thread_id}", "get"),
        ("/api/v1/forum/posts/{post_id}", "patch"),
        ("/api/v1/forum/posts/{post_id}/moderation", "post"),
        ("/api/v1/forum/moderation-log", "get"),
        ("/api/v1/forum/appeals/{appeal_id}/escalate", "post"),
    ]:
        assert paths[path][method]["summary"], (path, method)
    assert "delete" not in paths["/api/v1/forum/posts/{post_id}"]
