import sys


def add_arguments(p):
    p.add_argument("name")
    p.add_argument("--role", required=True, help="a role of the table in docs/permissions.md (core.access)")
    p.add_argument("--area", required=True, help="area path code, or * for the whole city")
    p.add_argument("--password", required=True)


def resolve_area(path: str):
    """An area by its path code; '*' or 'city' means the whole city (None)."""
    from cordon.places.models import Area

    path = path.strip().strip("/")
    if path in ("*", "city", "全市", ""):
        return None
    try:
        return Area.objects.get(path=path)
    except Area.DoesNotExist:
        raise SystemExit(f"error: no area with path {path!r}") from None


def run(args) -> int:
    from cordon.core import access
    from cordon.core.actions import ActionError, do_create_user

    try:
        access.check_role(args.role)
    except ValueError as exc:
        print(f"error: role: {exc}", file=sys.stderr)
        return 1
    area = resolve_area(args.area)
    try:
        user, grant = do_create_user(args.name, args.password, role=args.role, area=area, actor="cli",
                                     reason="cordon createuser")
    except ActionError as exc:
        print(f"error: {exc.field}: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.username}: {grant.role} over {area.path if area else 'the whole city'}")
    return 0
