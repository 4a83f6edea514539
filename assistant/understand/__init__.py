"""Understanding: templates first, then the local LLM, then (if allowed) the cloud."""
