"""The control table: ids, matching, errors, unknown and late responses."""

from __future__ import annotations

from trio_claude._protocol._control import ControlTable


def response(request_id: str, **body: object) -> dict[str, object]:
    return {"type": "control_response", "response": {"request_id": request_id, **body}}


def test_ids_are_unique_and_follow_the_official_convention() -> None:
    table = ControlTable()
    ids = [table.new_request("interrupt", {})[0] for _ in range(100)]
    assert len(set(ids)) == 100
    assert ids[0].startswith("req_1_") and ids[99].startswith("req_100_")
    assert set(table.pending.values()) == {"interrupt"}


def test_frame_shape() -> None:
    table = ControlTable()
    rid, frame = table.new_request("set_model", {"model": "m"})
    assert frame == {
        "type": "control_request",
        "request_id": rid,
        "request": {"subtype": "set_model", "model": "m"},
    }


def test_success_and_error_responses_match_their_request() -> None:
    table = ControlTable()
    a, _ = table.new_request("set_model", {})
    b, _ = table.new_request("rewind_files", {})
    ok = table.match(response(a, subtype="success", response={"model": "m"}))
    assert ok is not None and ok.ok and ok.subtype == "set_model" and ok.response == {"model": "m"}
    err = table.match(response(b, subtype="error", error="nope", error_code="busy"))
    assert err is not None and not err.ok and err.error == "nope" and err.error_code == "busy"
    assert table.pending == {}


def test_success_without_payload_gives_empty_dict() -> None:
    table = ControlTable()
    a, _ = table.new_request("interrupt", {})
    matched = table.match(response(a, subtype="success"))
    assert matched is not None and matched.response == {}


def test_unknown_late_and_malformed_responses_are_ignored() -> None:
    table = ControlTable()
    a, _ = table.new_request("interrupt", {})
    assert table.match(response("someone-else", subtype="success")) is None
    assert table.match({"type": "control_response"}) is None
    assert table.match({"type": "control_response", "response": "junk"}) is None
    table.forget(a)
    assert table.match(response(a, subtype="success")) is None


def test_drain_returns_and_forgets_everything() -> None:
    table = ControlTable()
    ids = {table.new_request("x", {})[0] for _ in range(3)}
    assert set(table.drain()) == ids
    assert table.pending == {}
