"""A local emulator of Azure OpenAI: the ARM subset ``aoai preflight`` reads and the Responses API.

Written from the API contracts, sharing no code with the client side (``aoai.preflight``,
``aoai.responses``), so a misreading on one side is not silently mirrored on the other.
"""
