"""Gmail and Calendar access with the caller's own credentials."""
