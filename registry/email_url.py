"""`EMAIL_URL` → the default entry of Django's MAILERS, in the manner of `DATABASE_URL`.

    smtp://user:password@host:587?tls=1   STARTTLS (also smtp+tls://)
    smtp+ssl://user:password@host:465     implicit TLS
    console://                            print messages (the default under DEBUG)
    locmem://                             keep them in memory
Unset (and DEBUG off): SMTP on localhost:25.
"""

from urllib.parse import parse_qs, unquote, urlsplit

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
TRUE = {"1", "true", "yes", "on"}


def registry_mailer(url: str) -> dict:
    """A MAILERS entry ({"BACKEND", "OPTIONS"}) for an EMAIL_URL."""
    url = url or "smtp://localhost:25"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ValueError(f"EMAIL_URL: unknown scheme {scheme!r} (use {', '.join(BACKENDS)})")
    mailer = {"BACKEND": BACKENDS[scheme]}
    if scheme.startswith("smtp"):
        options = parse_qs(parts.query)
        tls = scheme == "smtp+tls" or options.get("tls", ["0"])[0].lower() in TRUE
        ssl = scheme == "smtp+ssl" or options.get("ssl", ["0"])[0].lower() in TRUE
        mailer["OPTIONS"] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if ssl else 587 if tls else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": tls,
            "use_ssl": ssl,
            "timeout": 20,
        }
    return mailer
