"""The partner portal's project pages (/portal/, /portal/projects/<code>/): the projects
a user may see (`access.visible_projects`, so a partner never sees drafts or other
institutions' projects), their status timeline (`history.project_history`'s partner
view), countries, sectors, partner-visible support decisions and progress updates, and
a form posting progress through `services.progress_post`."""
