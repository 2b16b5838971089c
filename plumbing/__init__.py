"""What every service runs on: logs, health and metrics, the database engine,
settings readers, command dispatch, masking and file locations. It imports
nothing else of ours."""
