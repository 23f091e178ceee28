"""A scripted ``httpx.MockTransport`` for the resource tests: answers from a list of
responses (or exceptions, or handlers) and records every request, read whole."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from studio.api import CartesiaClient, RetryPolicy

KEY = "sk_test_not_a_real_key"
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_backoff=0.002)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records requests.

    Each call takes the next step of the script (the last one repeats): a response
    (answered as a fresh copy: responses are single-use), an exception (raised) or a
    handler (called with the request)."""

    def __init__(self, *responses: httpx.Response | Exception | Handler) -> None:
        self.script = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()  # multipart bodies are inspected after the call
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            if hasattr(step, "_content"):
                return httpx.Response(step.status_code, headers=step.headers,
                                      content=step.content)
            return step
        return step(request)


def client_for(recorder: Recorder, **kwargs: object) -> CartesiaClient:
    """A client of ``recorder`` (retries fast unless ``retry_policy`` is given)."""
    kwargs.setdefault("retry_policy", FAST)
    return CartesiaClient(
        KEY,
        base_url="https://api.example.test",
        transport=httpx.MockTransport(recorder),
        **kwargs,  # type: ignore[arg-type]
    )
