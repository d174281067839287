"""Pausing the cycle collector while many long-lived objects are made at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for synchronous code that builds many objects.

    The objects of a big answer all live until it is sent, so the collector's passes
    while they are being made find nothing to free, yet each pass walks them all (and
    a full one walks the whole heap). Around code that awaits (a tree's reads), the
    other tasks run without collection meanwhile, never for longer than that block;
    collection goes on as usual after. A pause inside a pause leaves it to the outer.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
