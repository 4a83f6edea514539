"""The home server: HTTP API, dashboard, Wyoming satellites and services (``hearth serve``).

Importing this package is cheap (config.py imports its settings); FastAPI, uvicorn and
Wyoming are imported only by the modules that need them.
"""
