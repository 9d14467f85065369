"""ocppgen's testing kit for your own tests (the pytest plugin ``ocppgen.pytest_plugin`` wraps it
in fixtures; it works without pytest too).

    pairs       -- ``csms_pair``, ``station_pair``: your side against a scripted peer, in memory
                   or over loopback WebSockets; typed call helpers, frame-level assertions
    replay      -- ``record_frames``, ``parse_frame_log``, ``replay``: frame logs as regression tests
    strategies  -- Hypothesis strategies for every generated message type (needs hypothesis;
                   import ``ocppgen.testing.strategies`` explicitly)
    memory      -- in-memory WebSockets, ``Frame``

Guide: docs/testing.md.
"""

from .memory import Frame, memory_pair
from .pairs import Answer, HandshakeRefused, Pair, csms_pair, peer_binding, station_pair
from .replay import FrameRecorder, ReplayMismatch, parse_frame_log, record_frames, replay

__all__ = [
    "Answer",
    "Frame",
    "FrameRecorder",
    "HandshakeRefused",
    "Pair",
    "ReplayMismatch",
    "csms_pair",
    "memory_pair",
    "parse_frame_log",
    "peer_binding",
    "record_frames",
    "replay",
    "station_pair",
]
