"""aoai: release-readiness checks and Responses API operations for Azure OpenAI."""

__version__ = "0.1.0"
