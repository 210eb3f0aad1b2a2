"""Cordon's pure policy core (no Django): policy packs as data, the area clock, person orders and the
nine-prohibitions guardrails.

    from cordon.policy.pack import load_pack
    from cordon.policy.areas import area_state, Designate, Infection, Round
    from cordon.policy.persons import compute_order
    from cordon.policy import guardrails

Pack format and the counting decisions: docs/policy-pack.md.
"""
