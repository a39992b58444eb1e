"""The Hugging Face hub, asked once: is it reachable, and if not, is the model in the local cache?

Without network, transformers retries each hub request for about 24 s and ends in a message of
several sentences. Before a hub model loads, ``hub_files_only`` tries one TCP connection to the
hub (once per process) unless ``HF_HUB_OFFLINE`` is set; when the hub cannot be reached, the model
loads from the local cache only (no retries), and a model that is not cached stops the run with
one line naming what could not be reached and how to provide the model locally.
"""

from __future__ import annotations

import functools
import os
import socket
from urllib.parse import urlparse

from crossknow.errors import CrossknowError

OFFLINE_VALUES = ("1", "true", "yes", "on")
PROBE_TIMEOUT_S = 3.0


class HubUnreachable(CrossknowError):
    """A hub model that is not in the local cache, with no hub to fetch it from."""


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def offline_by_setting() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in OFFLINE_VALUES


@functools.cache
def hub_reachable() -> bool:
    """One TCP connection to the hub's host, tried once per process."""
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def is_cached(repo_id: str) -> bool:
    """Whether the local hub cache holds a snapshot of ``repo_id``."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot_download(repo_id, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return False
    return True


def hub_files_only(repo_id: str) -> bool:
    """True when ``repo_id`` must load from the local cache (``local_files_only``): the hub is not
    reachable or ``HF_HUB_OFFLINE`` is set. Raises ``HubUnreachable`` when it is not cached either."""
    if not offline_by_setting() and hub_reachable():
        return False
    if is_cached(repo_id):
        return True
    from huggingface_hub import constants

    why = "HF_HUB_OFFLINE is set" if offline_by_setting() else f"{hub_endpoint()} cannot be reached"
    raise HubUnreachable(f"{repo_id}: not in the local hub cache ({constants.HF_HUB_CACHE}) and {why}; "
                         f"download it where there is internet (hf download {repo_id}) and copy the cache "
                         "here, or pass its local folder to --model")
