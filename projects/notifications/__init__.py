"""Notifications for staff: a row per notice (listed in the admin header and on
/admin/notifications/) and an email in the recipient's language, for the events that
concern them. Each kind can be turned off per user (`registry.preferences`)."""
