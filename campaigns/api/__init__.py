"""The operator ingestion API (/api/v1/), HMAC-signed by the brand's platform."""
