"""Release-readiness checks of an Azure OpenAI account (``aoai preflight``)."""
