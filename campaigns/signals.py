"""What campaigns does when partners tells it something (partners imports nothing of ours)."""
from django.dispatch import receiver

from campaigns.services.connections import partner_connections_create
from partners.signals import affiliate_approved


@receiver(affiliate_approved, dispatch_uid="campaigns.partner_connections_on_approval")
def partner_connections_on_approval(sender, affiliate, **kwargs):
    # Sent inside the approval's transaction: the connections commit or roll back with it.
    if affiliate.referral_tag:
        partner_connections_create(child=affiliate)
