"""Typed control answers decode the CLI's shapes leniently and keep the raw dict."""

from __future__ import annotations

import trio_claude as tc


def test_mcp_status_entry_as_observed() -> None:
    wire = {
        "name": "calc",
        "status": "connected",
        "serverInfo": {"name": "calc", "version": "1.0.0"},
        "transport": "sdk",
        "scope": "dynamic",
        "source": "sdk",
        "tools": [{"name": "add", "annotations": {}}],
    }
    status = tc.McpServerStatus.from_wire(wire)
    assert (status.name, status.status, status.transport) == ("calc", "connected", "sdk")
    assert status.server_info == {"name": "calc", "version": "1.0.0"}
    assert status.tools[0]["name"] == "add" and status.raw is wire


def test_rewind_and_context_usage_and_read_file() -> None:
    rewind = tc.RewindFilesResult.from_wire(
        {"canRewind": True, "filesChanged": ["a.py"], "insertions": 3, "deletions": 1}
    )
    assert rewind.can_rewind and rewind.files_changed == ["a.py"] and rewind.insertions == 3
    refused = tc.RewindFilesResult.from_wire({"canRewind": False, "error": "No checkpoint"})
    assert not refused.can_rewind and refused.error == "No checkpoint"
    usage = tc.ContextUsage.from_wire(
        {
            "categories": [{"name": "x", "tokens": 5}],
            "totalTokens": 5,
            "maxTokens": 100,
            "percentage": 5,
            "isAutoCompactEnabled": True,
        }
    )
    assert usage.total_tokens == 5 and usage.percentage == 5.0 and usage.is_auto_compact_enabled
    read = tc.ReadFileResult.from_wire({"contents": "x", "absPath": "/a", "lossy": False})
    assert read.contents == "x" and read.abs_path == "/a" and read.lossy is False


def test_lenient_on_wrong_or_missing_fields() -> None:
    assert tc.InterruptResult.from_wire({}).still_queued == []
    assert tc.InterruptResult.from_wire({"cancelled": ["u"]}).cancelled == ["u"]
    odd = tc.ContextUsage.from_wire({"totalTokens": "many", "percentage": True, "categories": 3})
    assert odd.total_tokens is None and odd.percentage is None and odd.categories == []
    sets = tc.McpSetServersResult.from_wire({"added": ["a"], "errors": {"b": "bad"}})
    assert sets.added == ["a"] and sets.removed == [] and sets.errors == {"b": "bad"}
