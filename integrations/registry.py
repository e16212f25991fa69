"""Which connector class serves which network (imported lazily: a network's module loads only
when one of its connections is used)."""
from django.utils.module_loading import import_string

from integrations.models import Network

CONNECTORS = {
    Network.AFFILAE: "integrations.affilae.connector.AffilaeConnector",
    Network.AFFELIOS: "integrations.affelios.connector.AffeliosConnector",
    Network.AFFILI: "integrations.affili.connector.AffiliConnector",
}


def connector_class(network: str):
    return import_string(CONNECTORS[network])


def connector_for(connection, **client_kwargs):
    return connector_class(connection.network)(connection, **client_kwargs)
