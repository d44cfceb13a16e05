"""HTTP plumbing every HTTP-based connector shares: send with retries that honour Retry-After.

429, 5xx, time-outs and connection errors are retried with exponential backoff (jittered), or
after the server's ``Retry-After`` when it gives one; other 4xx are terminal. Two clocks bound
the waiting: ``timeout_s`` is a deadline for a whole request (a body trickled a byte at a time
does not reset it), and ``retry_budget_s`` bounds all requests and retries of one delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from hub.core.errors import DeliveryError, TransientDeliveryError


class RetryableResponse(TransientDeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to backoff


@dataclass
class Budget:
    """The time one delivery may spend on requests and retries, and what it has spent."""

    seconds: float
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0

    @property
    def spent(self) -> float:
        return time.monotonic() - self.started

    @property
    def left(self) -> float:
        return self.seconds - self.spent


def _wait(backoff_max_s: float, budget: Budget) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=0.5, max=max(backoff_max_s, 0.01))

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        pause = min(after, backoff_max_s) if after is not None else backoff(state)
        return max(0.0, min(pause, budget.left))

    return wait


def send_once(
    client: httpx.Client,
    request: httpx.Request,
    where: str,
    describe_error: Callable[[httpx.Response], str] | None = None,
    *,
    deadline_s: float | None = None,
) -> httpx.Response:
    """One attempt, its whole answer read within ``deadline_s`` (default: the client's read
    time-out); raises a retryable error for what a later attempt may not hit."""
    limit = deadline_s if deadline_s is not None else (client.timeout.read or 30.0)
    limit = max(limit, 0.01)
    request.extensions["timeout"] = httpx.Timeout(limit).as_dict()
    started = time.monotonic()
    try:
        streamed = client.send(request, stream=True)
        try:
            body, size = [], 0
            for chunk in streamed.iter_raw():
                body.append(chunk)
                size += len(chunk)
                elapsed = time.monotonic() - started
                if elapsed > limit:
                    raise RetryableResponse(
                        f"{where}: the answer did not finish within {limit:g} s ({size} bytes "
                        f"in {elapsed:.1f} s: a stalled or trickling server)"
                    )
        finally:
            streamed.close()
    except httpx.TimeoutException:
        raise RetryableResponse(
            f"{where}: timed out after {time.monotonic() - started:.1f} s (deadline {limit:g} s)"
        ) from None
    except httpx.TransportError as exc:
        raise RetryableResponse(f"{where}: cannot connect: {exc.__class__.__name__}") from None
    response = httpx.Response(
        streamed.status_code, headers=streamed.headers, content=b"".join(body), request=request
    )
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableResponse(
            f"{where}: HTTP {response.status_code} {response.reason_phrase}",
            retry_after=retry_after(response),
        )
    if response.status_code >= 400:
        detail = describe_error(response) if describe_error else repr(response.text[:200])
        raise DeliveryError(
            f"{where}: HTTP {response.status_code} {response.reason_phrase}: {detail}"
        )
    return response


def sender(
    max_attempts: int,
    backoff_max_s: float,
    retry_budget_s: float | None = None,
    timeout_s: float | None = None,
) -> Callable[..., httpx.Response]:
    """``send_once`` under the retry policy, for one delivery: at most ``max_attempts`` per
    request, every request and wait of the delivery within ``retry_budget_s`` together.

    The returned function raises the last attempt's error, with the time spent added.
    """
    budget = Budget(retry_budget_s if retry_budget_s is not None else float("inf"))

    def attempt(client, request, where, describe_error=None) -> httpx.Response:
        budget.attempts += 1
        per_request = timeout_s if timeout_s is not None else (client.timeout.read or 30.0)
        if budget.left <= 0:
            raise RetryableResponse(f"{where}: no time left in the delivery's retry budget")
        return send_once(
            client, request, where, describe_error, deadline_s=min(per_request, budget.left)
        )

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= max_attempts or budget.left <= 0

    retrying = retry(
        retry=retry_if_exception_type(TransientDeliveryError),
        stop=stop,
        wait=_wait(backoff_max_s, budget),
        reraise=True,
    )(attempt)

    def send(client, request, where, describe_error=None) -> httpx.Response:
        first = budget.attempts
        try:
            return retrying(client, request, where, describe_error)
        except TransientDeliveryError as exc:
            tries = budget.attempts - first
            over = budget.left <= 0
            raise TransientDeliveryError(
                f"{exc.message}; gave up after {tries} attempt(s), {budget.spent:.1f} s spent on "
                "this delivery"
                + (
                    f", past its retry budget of {budget.seconds:g} s"
                    if over
                    else f" (max_attempts {max_attempts})"
                )
            ) from None

    return send
