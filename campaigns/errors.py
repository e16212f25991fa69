from backoffice.errors import ApplicationError


class CampaignsError(ApplicationError):
    """A campaigns-domain rule was broken; the message tells the person what to do."""
