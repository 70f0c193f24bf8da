"""The workshop room: a pure board model and reducer, and the per-process hub that serves it."""
