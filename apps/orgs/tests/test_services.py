from apps.orgs.services import institution_users, supervisors_of


def test_supervisors_of_an_institution(world):
    names = {u.username for u in supervisors_of(world.inst1)}
    assert names == {"t_town1", "t_yanglao"}
    names = {u.username for u in supervisors_of(world.inst1b, include_bureau=True)}
    assert names == {"t_town1", "t_shiwu", "t_unit", "t_admin", "t_leader"}


def test_institution_users(world):
    assert {u.username for u in institution_users(world.inst1)} == {"t_home1", "t_staff1"}
