"""Teams: multi-agent topologies as nurseries.

Each shape is an ``async with`` block that owns one nursery; every agent's CLI lives in it, so
no agent outlives the block. Leaving the block (normally, by an error, by cancellation)
interrupts every running turn and closes every CLI, shielded and bounded.

- :func:`open_fanout`: map-reduce: prompts over fresh sessions with a concurrency limit,
  results as they finish, an error policy, one shared budget.
- :func:`open_pipeline`: stages joined by bounded channels (backpressure, completion).
- :func:`open_team`: a lead that delegates to teammates through in-process MCP tools, in
  parallel.
- :func:`open_supervisor`: one-for-one / one-for-all restarts within a restart budget; a
  restarted agent resumes its conversation.
- :func:`open_blackboard`: shared state agents read, write and wait on through MCP tools.
- :func:`open_debate`: a ring of agents taking turns over a shared transcript until a
  condition or a quorum.

Every agent's state (:class:`AgentState`), cost and tokens are observable at any time
(``agent.statistics()``), and every team reports totals (``statistics()``). See
``docs/teams.md``.
"""

from ._agent import Agent as Agent
from ._agent import AgentState as AgentState
from ._agent import AgentStatistics as AgentStatistics
from ._blackboard import Blackboard as Blackboard
from ._blackboard import BlackboardTeam as BlackboardTeam
from ._blackboard import Change as Change
from ._blackboard import open_blackboard as open_blackboard
from ._core import ErrorPolicy as ErrorPolicy
from ._core import Failure as Failure
from ._core import TeamStatistics as TeamStatistics
from ._debate import Debate as Debate
from ._debate import DebateOutcome as DebateOutcome
from ._debate import Entry as Entry
from ._debate import default_prompt as default_prompt
from ._debate import default_vote as default_vote
from ._debate import open_debate as open_debate
from ._errors import AgentError as AgentError
from ._errors import EscalationError as EscalationError
from ._errors import TeamError as TeamError
from ._fanout import FanOut as FanOut
from ._fanout import Outcome as Outcome
from ._fanout import OutcomeStream as OutcomeStream
from ._fanout import open_fanout as open_fanout
from ._leader import Team as Team
from ._leader import Teammate as Teammate
from ._leader import open_team as open_team
from ._pipeline import Pipeline as Pipeline
from ._pipeline import PipelineResult as PipelineResult
from ._pipeline import Stage as Stage
from ._pipeline import open_pipeline as open_pipeline
from ._supervisor import DEFAULT_RESUME_PROMPT as DEFAULT_RESUME_PROMPT
from ._supervisor import Strategy as Strategy
from ._supervisor import Supervisor as Supervisor
from ._supervisor import Work as Work
from ._supervisor import open_supervisor as open_supervisor

__all__ = [
    "DEFAULT_RESUME_PROMPT",
    "Agent",
    "AgentError",
    "AgentState",
    "AgentStatistics",
    "Blackboard",
    "BlackboardTeam",
    "Change",
    "Debate",
    "DebateOutcome",
    "Entry",
    "ErrorPolicy",
    "EscalationError",
    "Failure",
    "FanOut",
    "Outcome",
    "OutcomeStream",
    "Pipeline",
    "PipelineResult",
    "Stage",
    "Strategy",
    "Supervisor",
    "Team",
    "TeamError",
    "TeamStatistics",
    "Teammate",
    "Work",
    "default_prompt",
    "default_vote",
    "open_blackboard",
    "open_debate",
    "open_fanout",
    "open_pipeline",
    "open_supervisor",
    "open_team",
]
