"""Render stage: Plan -> file texts (SQL per database and phase, shell, runbook)."""
