from backoffice.errors import ApplicationError


class PartnersError(ApplicationError):
    """A partners-domain rule was broken; the message tells the person what to do."""
