from apps.core.scopecases import INSIDERS, OUTSIDERS, ScopeCase

# A token is its owner's alone: every other user, the administrator included, gets 404.
NOT_HOME1 = tuple(u for u in INSIDERS + OUTSIDERS if u != "home1")


def _home1_token(w):
    from knox.models import AuthToken

    w.home1_token_key = AuthToken.objects.create(user=w.home1)[0].token_key


CASES = [
    ScopeCase("own-token-api", lambda w: f"/api/v1/auth/tokens/{w.home1_token_key}/", api=True,
              readers=("home1",), outsiders=NOT_HOME1, setup=_home1_token),
    ScopeCase("own-token-revoke-api", lambda w: f"/api/v1/auth/tokens/{w.home1_token_key}/", method="delete",
              api=True, readers=("home1",), ok=(204,), outsiders=NOT_HOME1, setup=_home1_token),
    ScopeCase("own-token-revoke-page", lambda w: "/accounts/tokens/", method="post",
              data=lambda w: {"token_key": w.home1_token_key}, readers=("home1",), ok=(302,),
              outsiders=NOT_HOME1, setup=_home1_token),
]
