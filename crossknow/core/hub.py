"""The Hugging Face hub, asked once: is it reachable, and if not, is the model in the local cache?

Without network, transformers retries each hub request for about 24 s and ends in a message of
several sentences. Before a hub model loads, ``hub_files_only`` tries one TCP connection to the
hub (once per process) unless ``HF_HUB_OFFLINE`` is set; when the hub cannot be reached, the model
loads from the local cache only (no retries), and a model that is not cached stops the run with
one line naming what could not be reached and how to provide the model locally.

Hub datasets (``load_hub_dataset``) follow the same rule: with the hub reachable they load as
usual; without it (or with ``HF_HUB_OFFLINE`` set) ``datasets`` runs in offline mode, so it serves
the local datasets cache where that holds the data and fails at once where not, and the run stops
with one line naming the dataset and how to provide it locally.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

from crossknow.core.errors import CrossknowError

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


def load_hub_dataset(name: str, *args, provide_locally: str, **kwargs):
    """``datasets.load_dataset(name, *args, **kwargs)``, from the local datasets cache alone when the
    hub cannot be reached or ``HF_HUB_OFFLINE`` is set. ``provide_locally`` ends the error line: how
    to give the script a local copy instead (``pass a local folder to --data``)."""
    from datasets import load_dataset

    if not offline_by_setting() and hub_reachable():
        return load_dataset(name, *args, **kwargs)
    with datasets_offline():
        try:
            return load_dataset(name, *args, **kwargs)
        except (ConnectionError, FileNotFoundError) as error:
            raise HubUnreachable(_dataset_unreachable(name, provide_locally)) from error


@contextlib.contextmanager
def datasets_offline() -> Iterator[None]:
    """``datasets`` and ``huggingface_hub`` in offline mode (no request, no retry) for the block."""
    import datasets.config
    from huggingface_hub import constants

    saved = datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


def _dataset_unreachable(name: str, provide_locally: str) -> str:
    import datasets.config

    why = "HF_HUB_OFFLINE is set" if offline_by_setting() else f"{hub_endpoint()} cannot be reached"
    return (f"hub dataset {name}: not in the local datasets cache ({datasets.config.HF_DATASETS_CACHE}) and {why}; "
            f"load it once where there is internet and copy the cache here, or {provide_locally}")
