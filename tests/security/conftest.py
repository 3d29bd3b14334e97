"""The stack most security tests run against: the function served by functions-framework, admitting
example.com's Workspace accounts and one consumer account; and the people who call it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.people import SECURITY_ENV, Cast, cast_of
from tests.stack import Stack, local_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with local_stack(function_env=SECURITY_ENV) as s:
        s.start_function()
        yield s


@pytest.fixture(scope="module")
def cast(stack: Stack) -> Cast:
    return cast_of(stack)
