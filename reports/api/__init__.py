"""The Partner Report API (/api/customer/v1/partner/): reports for scripts, statistic token auth."""
