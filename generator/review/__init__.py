"""Review a bundle after generation: lint it, verify it, rehearse it (CI and the second engineer)."""
