"""HTTP plumbing every HTTP-based connector shares: send with retries that honour Retry-After.

429, 5xx, time-outs and connection errors are retried with exponential backoff (jittered), or
after the server's ``Retry-After`` when it gives one; other 4xx are terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
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


def _wait(backoff_max_s: float) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(multiplier=0.5, max=max(backoff_max_s, 0.01))

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(after, backoff_max_s)
        return backoff(state)

    return wait


def send_once(
    client: httpx.Client,
    request: httpx.Request,
    where: str,
    describe_error: Callable[[httpx.Response], str] | None = None,
) -> httpx.Response:
    """One attempt; raises a retryable error for what a later attempt may not hit."""
    try:
        response = client.send(request)
    except httpx.TimeoutException:
        raise RetryableResponse(f"{where}: timed out after {client.timeout.read} s") from None
    except httpx.TransportError as exc:
        raise RetryableResponse(f"{where}: cannot connect: {exc.__class__.__name__}") from None
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


def sender(max_attempts: int, backoff_max_s: float) -> Callable[..., httpx.Response]:
    """``send_once`` wrapped in the retry policy."""
    return retry(
        retry=retry_if_exception_type(TransientDeliveryError),
        stop=stop_after_attempt(max_attempts),
        wait=_wait(backoff_max_s),
        reraise=True,
    )(send_once)
