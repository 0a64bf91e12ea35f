"""The tree of administrations as a materialised path.

Every organisation stores ``path`` — the ids from the root down to itself, each followed by a
dot (``"1.7.12."``) — and ``admin_path``, the path of the nearest administration (province, city
or district bureau) at or above it. "Under X" is then one prefix match on an indexed column
(``path__startswith=X.path``), whatever the depth of the tree: no recursive query, no join per
level. The dot after every id makes prefixes exact (``"1.1."`` is not under ``"1.12."``).

Paths are kept by ``Organization.save`` (and re-derived for the subtree when a node moves);
``rebuild`` recomputes the whole tree (the data migration, bulk-created trees).
"""

ADMINISTRATION_KINDS = ("province", "city", "bureau")


def ancestor_paths(path: str) -> list[str]:
    """The paths of every node from the root down to the one of ``path`` ("1.7.12." ->
    ["1.", "1.7.", "1.7.12."])."""
    parts = [p for p in (path or "").split(".") if p]
    return [".".join(parts[:i]) + "." for i in range(1, len(parts) + 1)]


def ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in (path or "").split(".") if p]


def derive(node_id, kind, parent_path: str | None, parent_admin_path: str | None):
    """(path, admin_path) of a node given its parent's."""
    path = f"{parent_path or ''}{node_id}."
    admin_path = path if kind in ADMINISTRATION_KINDS else (parent_admin_path or "")
    return path, admin_path


def rebuild(model) -> int:
    """Recompute ``path`` and ``admin_path`` of every row of ``model`` (an Organization class,
    real or historical); returns how many rows changed."""
    rows = {o.pk: o for o in model.objects.all().only("pk", "kind", "parent_id", "path", "admin_path")}
    done: dict[int, tuple[str, str]] = {}

    def resolve(pk, seen=()):
        if pk in done:
            return done[pk]
        node = rows[pk]
        if node.parent_id in seen:
            raise ValueError(f"organisation {pk} is its own ancestor")
        parent = resolve(node.parent_id, (*seen, pk)) if node.parent_id in rows else (None, None)
        done[pk] = derive(pk, node.kind, *parent)
        return done[pk]

    changed = []
    for pk, node in rows.items():
        path, admin_path = resolve(pk)
        if (node.path, node.admin_path) != (path, admin_path):
            node.path, node.admin_path = path, admin_path
            changed.append(node)
    model.objects.bulk_update(changed, ["path", "admin_path"], batch_size=500)
    return len(changed)
