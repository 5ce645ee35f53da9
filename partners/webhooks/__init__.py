"""Webhooks: endpoints that partners (or staff integrations) register, and the signed,
retried deliveries of events to them. The events themselves come from the project pool
(`projects.webhook_events`), which builds each body; this package knows nothing of
projects, only of endpoints, bodies and HTTP."""
