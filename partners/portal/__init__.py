"""The partner portal's account pages under /portal/: log in and out, password reset by
email, API tokens and webhook endpoints. The project pages are in `projects.portal`;
the root URLconf composes both under one `portal` namespace and both extend
`portal/base.html` (this app's templates)."""
