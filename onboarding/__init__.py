"""Bringing agencies onto the platform.

Applications, the provisioning pipeline, bulk onboarding of a province, go-live
checklists, offboarding and exit packs.
"""
