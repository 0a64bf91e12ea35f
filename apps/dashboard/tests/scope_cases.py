from apps.core.scopecases import ScopeCase

CASES = [
    # The cockpit narrowed to inst1's township: outsider townships get 404.
    ScopeCase("cockpit-township", lambda w: f"/cockpit/?township={w.t1.pk}",
              readers=("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1"),
              outsiders=("town2",)),
    # The report of inst1's township: another township's officer gets 404.
    ScopeCase("report-township", lambda w: f"/cockpit/reports/?period=month&year=2026&n=1&township={w.t1.pk}",
              readers=("admin", "leader", "sec_elderly_user", "town1"), outsiders=("town2",)),
    # 一院一档 of inst1: everyone who sees inst1 reads it, outsiders get 404.
    ScopeCase("institution-file", lambda w: f"/cockpit/institutions/{w.inst1.pk}/file/"),
]
