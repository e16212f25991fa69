"""Report API authentication: finding the user behind a statistic token.

Ours: the SHA-256 digest column (unique index) + one constant-time compare.
Baseline: what encrypted-only storage would force: decrypt every user's token and compare.
Measured per lookup (ms) with 2,000 users holding tokens.
"""
import statistics
import time

from backoffice import crypto
from partners.models import Affiliate, User
from partners.services.tokens import statistic_token_issue, user_by_statistic_token

USERS = 2000
LOOKUPS = 200


def _setup() -> list[str]:
    tokens = []
    affiliate = Affiliate.objects.create(name="Token Bench Media", status=Affiliate.Status.ACTIVE)
    users = User.objects.bulk_create(
        User(email=f"bench{i}@example.net", affiliate=affiliate, role=User.Role.MEMBER) for i in range(USERS)
    )
    for user in users:
        tokens.append(statistic_token_issue(user=user, actor=None))
    return tokens


def _baseline_lookup(token: str):
    for user in User.objects.exclude(statistic_token_encrypted="").only("pk", "statistic_token_encrypted"):
        if crypto.same(crypto.decrypt(user.statistic_token_encrypted), token):
            return user
    return None


def _time(fn, tokens) -> float:
    samples = []
    for token in tokens:
        started = time.perf_counter()
        assert fn(token) is not None
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run():
    tokens = _setup()
    probe = tokens[:: max(1, len(tokens) // LOOKUPS)][:LOOKUPS]
    ours = _time(user_by_statistic_token, probe)
    baseline = _time(_baseline_lookup, probe[:10])
    return [{
        "name": f"statistic token lookup ({USERS} users), median",
        "ours": ours, "baseline": baseline, "unit": "ms",
    }]
