"""Language-model backends: the local one (llama-cpp-python) and the cloud one (any
OpenAI-compatible endpoint, reachable only through the audit log in ``cloud``)."""
