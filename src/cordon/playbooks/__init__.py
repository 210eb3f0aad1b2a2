"""Playbooks (工作指引): step-by-step guidance from the policy pack, versioned with it, for every job."""
