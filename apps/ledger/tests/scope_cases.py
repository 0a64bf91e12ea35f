from apps.core.scopecases import ScopeCase


def _building(w):
    from apps.ledger.models import Building

    return Building.objects.get_or_create(institution=w.inst1, name="主楼")[0]


def _edit_data(w):
    from django.forms.models import model_to_dict

    from apps.ledger.forms import INSTITUTION_FIELDS

    data = {k: v for k, v in model_to_dict(w.inst1, fields=INSTITUTION_FIELDS).items() if v is not None and v is not False}
    data["beds"] = 61
    return data


CASES = [
    ScopeCase("institution-page", lambda w: f"/ledger/{w.inst1.pk}/"),
    ScopeCase("institution-edit-page", lambda w: f"/ledger/{w.inst1.pk}/edit/",
              readers=("admin", "sec_elderly_user", "town1", "home1")),
    ScopeCase("institution-edit-post", lambda w: f"/ledger/{w.inst1.pk}/edit/", method="post", data=_edit_data,
              readers=("town1",), ok=(302,)),
    ScopeCase("building-create-page", lambda w: f"/ledger/{w.inst1.pk}/buildings/new/",
              readers=("admin", "town1", "home1")),
    ScopeCase("building-edit-page", lambda w: f"/ledger/{w.inst1.pk}/buildings/{_building(w).pk}/edit/",
              readers=("admin", "town1", "home1")),
    ScopeCase("institution-api", lambda w: f"/api/v1/institutions/{w.inst1.pk}/", api=True),
    ScopeCase("institution-api-patch", lambda w: f"/api/v1/institutions/{w.inst1.pk}/", method="patch",
              data=lambda w: {"beds": 70}, api=True, readers=("admin", "town1", "home1")),
    ScopeCase("institution-api-delete", lambda w: f"/api/v1/institutions/{w.inst1.pk}/", method="delete",
              api=True, readers=(), outsiders=("sec_social_user", "town2", "home2")),
    ScopeCase("building-api", lambda w: f"/api/v1/buildings/{_building(w).pk}/", api=True),
]
