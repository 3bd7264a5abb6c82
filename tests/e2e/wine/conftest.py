"""Fixtures of the Wine tests: the relay is the Windows rtether.exe under
Wine, the client the Linux binary under test, as in every other e2e test.

- `wine`: the session's `wine_session.WineSession` (its own prefix and a
  persistent wineserver, stopped at the end).
- `make_env` (and so `env`): the parent fixture with a `harness.WineRelay`
  as relay launcher, so the scenarios of tests/e2e/test_*.py run unchanged
  against `wine rtether.exe relay -p PORT`.
"""

import pytest

import harness
from wine_session import WineSession


@pytest.fixture(scope="session")
def wine(rtether_exe, tmp_path_factory):
    session = WineSession(rtether_exe, str(tmp_path_factory.mktemp("wine")))
    try:
        session.start()
        yield session
    finally:
        session.close()


@pytest.fixture
def make_env(make_env, wine):
    def make(env_class=harness.Env, **options):
        options.setdefault("relay_launcher", harness.WineRelay(wine.exe, wine.environment))
        return make_env(env_class, **options)

    return make
