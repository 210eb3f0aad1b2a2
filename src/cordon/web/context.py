from cordon.core import access


def cordon(request):
    user = getattr(request, "user", None)
    roles = sorted(access.roles_of(user)) if user is not None else []
    return {
        "cordon_roles": roles,
        "can_audit": bool(user is not None and access.has_perm(user, access.AUDIT)),
    }
