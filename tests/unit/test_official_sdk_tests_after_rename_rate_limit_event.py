# ruff: noqa: E501  (official test bodies and names, kept as written)
# mypy: ignore-errors
"""The official SDK's test_rate_limit_event_repro.py (anthropics/claude-agent-sdk-python ``tests/test_rate_limit_event_repro.py``), after the
rename ``claude_agent_sdk`` -> ``trio_claude``: a parity probe (see
``test_official_sdk_tests_after_rename.py``).

Ported mechanically: the official test bodies are unchanged but for the import rename and the
items below; each test names the official test it ports. Tests of the official SDK's private
helpers are left out. A failing test here is a parity gap (official code would behave differently
after the rename); a test changed to a documented difference says ``KNOWN DIFFERENCE``.

``parse_message`` is trio-claude's decode path, ``trio_claude._protocol._codec.decode_message``.
"""

from trio_claude import RateLimitEvent, RateLimitInfo, UnknownMessage
from trio_claude._protocol._codec import decode_message as parse_message


class TestRateLimitEventHandlingRateLimitRepro:
    """Verify rate_limit_event is parsed into a typed message."""

    def test_rate_limit_event_parsed_as_typed_message(self):
        # port of test_rate_limit_event_repro.py::TestRateLimitEventHandling::test_rate_limit_event_parsed_as_typed_message
        """allowed_warning status should be parsed into a RateLimitEvent."""
        data = {
            "type": "rate_limit_event",
            "rate_limit_info": {
                "status": "allowed_warning",
                "resetsAt": 1700000000,
                "rateLimitType": "five_hour",
                "utilization": 0.85,
                "isUsingOverage": False,
            },
            "uuid": "550e8400-e29b-41d4-a716-446655440000",
            "session_id": "test-session-id",
        }

        result = parse_message(data)
        assert isinstance(result, RateLimitEvent)
        assert result.uuid == "550e8400-e29b-41d4-a716-446655440000"
        assert result.session_id == "test-session-id"

        info = result.rate_limit_info
        assert isinstance(info, RateLimitInfo)
        assert info.status == "allowed_warning"
        assert info.resets_at == 1700000000
        assert info.rate_limit_type == "five_hour"
        assert info.utilization == 0.85
        # Unmodeled field preserved in raw
        assert info.raw["isUsingOverage"] is False

    def test_rate_limit_event_rejected_parsed(self):
        # port of test_rate_limit_event_repro.py::TestRateLimitEventHandling::test_rate_limit_event_rejected_parsed
        """Hard rate limit (status=rejected) with overage info."""
        data = {
            "type": "rate_limit_event",
            "rate_limit_info": {
                "status": "rejected",
                "resetsAt": 1700003600,
                "rateLimitType": "seven_day",
                "isUsingOverage": False,
                "overageStatus": "rejected",
                "overageDisabledReason": "out_of_credits",
            },
            "uuid": "660e8400-e29b-41d4-a716-446655440001",
            "session_id": "test-session-id",
        }

        result = parse_message(data)
        assert isinstance(result, RateLimitEvent)
        assert result.rate_limit_info.status == "rejected"
        assert result.rate_limit_info.overage_status == "rejected"
        assert result.rate_limit_info.overage_disabled_reason == "out_of_credits"

    def test_rate_limit_event_minimal_fields(self):
        # port of test_rate_limit_event_repro.py::TestRateLimitEventHandling::test_rate_limit_event_minimal_fields
        """Only status is required; optional fields default to None."""
        data = {
            "type": "rate_limit_event",
            "rate_limit_info": {"status": "allowed"},
            "uuid": "770e8400-e29b-41d4-a716-446655440002",
            "session_id": "test-session-id",
        }

        result = parse_message(data)
        assert isinstance(result, RateLimitEvent)
        assert result.rate_limit_info.status == "allowed"
        assert result.rate_limit_info.resets_at is None
        assert result.rate_limit_info.rate_limit_type is None

    def test_unknown_message_type_returns_none(self):
        # port of test_rate_limit_event_repro.py::TestRateLimitEventHandling::test_unknown_message_type_returns_none
        """Truly unknown message types still return None for forward compat."""
        data = {
            "type": "some_future_event_type",
            "uuid": "880e8400-e29b-41d4-a716-446655440003",
            "session_id": "test-session-id",
        }

        result = parse_message(data)
        # KNOWN DIFFERENCE (migration.md, Messages and options): delivered as UnknownMessage.
        assert isinstance(result, UnknownMessage)
        assert result.type == "some_future_event_type"

    def test_known_message_types_still_parsed(self):
        # port of test_rate_limit_event_repro.py::TestRateLimitEventHandling::test_known_message_types_still_parsed
        """Known message types should still be parsed normally."""
        data = {
            "type": "assistant",
            "message": {
                "content": [{"type": "text", "text": "hello"}],
                "model": "claude-sonnet-4-6-20250929",
            },
        }

        result = parse_message(data)
        assert result is not None
        assert result.content[0].text == "hello"
