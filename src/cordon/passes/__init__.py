"""Passes (通行证) for essential movement and the checkpoints that check them (../shared/POLICY.md)."""
