"""``aoai preflight plan``: check a planned change (ARM What-If, Terraform plan JSON) before it
is provisioned.

``load`` parses the plan (no network); ``endstate`` builds, per planned account, the end state as
an ``AccountSnapshot`` (the live account and deployments, read through ``aoai.preflight.arm``,
with the planned creates, modifies and deletes applied; region data always live); the existing
checks evaluate it, and ``evaluate`` makes values known only after apply ``skip``, never ``pass``.
"""
