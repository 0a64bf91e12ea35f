from apps.core.scopecases import ScopeCase

CASES = [
    # The cockpit narrowed to inst1's township: outsider townships get 404.
    ScopeCase("cockpit-township", lambda w: f"/cockpit/?township={w.t1.pk}",
              readers=("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1"),
              outsiders=("town2",)),
]
