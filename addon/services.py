"""The outside services the add-on talks to, built once per process from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from addon.crypto import SecretBox
from addon.google.calendar import CalendarZones
from addon.google.client import GoogleApis
from addon.google.delegation import OfflineAccess
from addon.google.directory import DirectorySites
from addon.google.runtime import RuntimeIdentity
from addon.join_details import ConferenceSupport
from addon.link_allowlist import LinkAllowlist, link_prefixes
from addon.meetings.catalog import MeetingServices
from addon.policy import Policies
from addon.security import GoogleCerts
from addon.settings import Settings
from addon.store import Store, open_store
from addon.tasks import CloudTasks, LocalTasks


@dataclass
class Services:
    """Held in app.extensions["addon"]; tests replace members there instead of patching modules."""

    settings: Settings
    certs: GoogleCerts
    google: GoogleApis
    store: Store
    box: SecretBox
    meetings: MeetingServices
    policies: Policies
    links: LinkAllowlist
    conference_support: ConferenceSupport = field(default_factory=ConferenceSupport)
    calendar_zones: CalendarZones = field(default_factory=CalendarZones)
    directory_sites: DirectorySites = field(default_factory=DirectorySites)
    offline: OfflineAccess = field(default_factory=lambda: OfflineAccess(None))
    tasks: LocalTasks = field(default_factory=LocalTasks)
    # What follows a user's answer (audit rows, SIP addresses, tracking a calendar), apart from the syncs.
    after_answer: LocalTasks = field(default_factory=LocalTasks)
    # Set with ADDON_TASKS_QUEUE: background syncs go through Cloud Tasks.
    cloud_tasks: CloudTasks | None = None

    def close(self) -> None:
        self.after_answer.close()
        self.tasks.close()
        self.google.close()
        self.meetings.close()
        self.store.close()


def build_services(settings: Settings) -> Services:
    store = open_store(settings.store, settings.datastore_namespace)
    box = SecretBox(settings.secret_key, settings.previous_secret_keys)
    return Services(
        settings=settings,
        certs=GoogleCerts(settings.google_certs_url),
        google=GoogleApis(settings.google_api_endpoint),
        store=store,
        box=box,
        meetings=MeetingServices(settings, store, box),
        policies=Policies(store),
        links=_link_allowlist(settings),
        cloud_tasks=_cloud_tasks(settings),
        offline=OfflineAccess(settings.sync_key_info(), settings.sync_service_account, settings.google_api_endpoint),
    )


def _link_allowlist(settings: Settings) -> LinkAllowlist:
    """What the deployment rendered for these settings lets cards open (the services configured here)."""
    services = ["jitsi"]
    services += ["webex"] if settings.webex_client_id else []
    services += ["zoom"] if settings.zoom_client_id else []
    # Development serves plain http on this machine; Google never sees that deployment.
    origin = settings.base_url if settings.base_url.startswith("https://") else "https://localhost"
    jitsi = settings.jitsi_base_url if settings.jitsi_base_url.startswith("https://") else "https://localhost"
    return LinkAllowlist(link_prefixes(origin, services=services, jitsi_base_url=jitsi, extra=settings.link_prefixes))


def _cloud_tasks(settings: Settings) -> CloudTasks | None:
    if settings.tasks_queue is None or settings.cron_service_account is None:
        return None
    return CloudTasks(
        settings.tasks_queue,
        settings.base_url,
        settings.cron_service_account,
        RuntimeIdentity(),
        settings.google_api_endpoint,
    )
