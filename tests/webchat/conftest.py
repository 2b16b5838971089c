"""What the web chat's tests share: the stand-in for Rasa's REST channel."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from .fake_bot import FakeBot


@pytest.fixture
async def bot() -> AsyncIterator[FakeBot]:
    fake = FakeBot()
    await fake.start()
    yield fake
    await fake.stop()
