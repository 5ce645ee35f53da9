"""Workflow parts of the project admin: transition buttons, confirmation pages, bulk
actions and the screening queue. `projects.admin.ProjectAdmin` mixes this in."""


class WorkflowAdminMixin:
    pass
