"""The sandbox's front: one request in, one response out (``dispatch``), for the in-process
httpx transport and the ASGI server alike. Routes, request checks (the official schemas, then
the sandbox's own rules), pagination, fault rules and the ``/_sandbox/`` control routes."""
