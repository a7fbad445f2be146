"""The test run's settings: production's, except what a test server on plain HTTP needs.

The test client and the browser tests' live server speak HTTP on 127.0.0.1, so the HTTPS
redirect, HTTPS-only cookies and HSTS are off; tests of those read settings.py afresh
(tests/test_settings.py) or run `check --deploy` in a subprocess (tests/test_production.py).
Sign-in lockout is off too (`client.login()` has no request for it to count by); the tests in
tests/test_auth.py turn it on.
"""

from __future__ import annotations

from gainsight_lite.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
AXES_ENABLED = False
