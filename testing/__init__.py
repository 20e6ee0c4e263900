"""Test infrastructure that is not a test: real local stand-ins for the project's dependencies.

- ``openai_server``: a fake OpenAI-compatible HTTP server (the ``fake_openai`` / ``llm``
  fixtures of the root conftest.py, and ``bench/``).
- ``servers``: the project under uvicorn in a subprocess, its database, TCP faults and plain
  HTTP/SSE clients (the ``server_db`` / ``start_server`` fixtures of the root conftest.py).
- ``processes``: stopping the subprocesses those start.

Nothing in the apps imports this package; tests and benchmarks do.
"""
