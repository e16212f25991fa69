from backoffice.errors import ApplicationError


class ReportsError(ApplicationError):
    """A report request cannot be answered; the message (and field) say what to change."""
