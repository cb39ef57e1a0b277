"""trio-claude: a Trio-native, structured-concurrency Python SDK for Claude Code."""

from ._errors import BudgetExceededError as BudgetExceededError
from ._errors import ClaudeSDKError as ClaudeSDKError
from ._errors import CLIConnectionError as CLIConnectionError
from ._errors import CLIJSONDecodeError as CLIJSONDecodeError
from ._errors import CLINotFoundError as CLINotFoundError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ControlRequestError as ControlRequestError
from ._errors import ControlTimeoutError as ControlTimeoutError
from ._errors import MessageParseError as MessageParseError
from ._errors import ProcessError as ProcessError
from ._errors import ResultError as ResultError
from ._errors import SessionClosedError as SessionClosedError
from ._errors import StallTimeoutError as StallTimeoutError
from ._version import __version__ as __version__
