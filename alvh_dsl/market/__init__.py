"""Market history, expiry calendars, term structure and option pricing for dry-runs."""
