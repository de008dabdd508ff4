"""Google's token-signing keys: fetched as the server fetches them, and there are some."""

from __future__ import annotations

from addon.doctor.context import Doctor, settings_check
from addon.doctor.report import Result, ok, problem
from addon.security import CertsUnavailable, GoogleCerts
from addon.settings import Settings

WHAT = "Google's signing keys"


@settings_check(WHAT)
def check_google_certs(doctor: Doctor, settings: Settings) -> Result:
    url = settings.google_certs_url
    certs = GoogleCerts(url)
    fix = "let the app (and this machine) reach it over https, or unset ADDON_GOOGLE_CERTS_URL to use Google's"
    try:
        certs.key("")  # any key id: this fetches the set
    except CertsUnavailable as error:
        return problem(WHAT, f"{url} did not serve them ({error})", fix)
    if not certs.key_ids:
        return problem(WHAT, f"{url} served no keys, so every request from Google would be refused", fix)
    count = len(certs.key_ids)
    return ok(WHAT, f"{count} key{'s' if count != 1 else ''} from {url}")
