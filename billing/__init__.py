"""Usage metering and subscription billing of the rented service.

The usage ledger is here now; plans, billing accounts, invoices and the
Stripe / bank-transfer gateways come with the billing issue.
"""
