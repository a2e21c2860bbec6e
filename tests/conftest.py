"""Fixtures shared by several test files (opt-in, never autouse here)."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Tiny models on a shared 2-core CPU run many times faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
