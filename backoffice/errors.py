"""The root of every domain error. Each app subclasses it once (PartnersError, BillingError ...).

The message is meant for a person: views turn it into a form error or a 400 JSON body.
"""


class ApplicationError(Exception):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
