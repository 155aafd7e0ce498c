"""Plan stage: pure functions from (schemas, facts, options) to a Plan."""
