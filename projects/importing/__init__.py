"""Bulk entry from spreadsheets: read (formats), match (matching), run all or nothing
(runner) through the services (projects, partners), and report what happened (report)."""
