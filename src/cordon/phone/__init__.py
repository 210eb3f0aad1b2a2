"""The field workers' installable phone app: their slice offline, changes queued and synced (issue 20)."""
