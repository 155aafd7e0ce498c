"""Domain knowledge: what Nova, Cinder and Placement do, release by release.

Kept apart from the planner so the facts it rests on (read from upstream
code, see shared/domain) are in one place and cited.
"""
