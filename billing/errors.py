from backoffice.errors import ApplicationError


class BillingError(ApplicationError):
    """A billing rule was broken; the message tells the person what to do."""
