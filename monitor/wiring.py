"""Settings become the frozen values and objects the rest of the daemon is built from:
the one place below the command line that reads ``config``."""

from __future__ import annotations

from monitor.config import Settings
from monitor.dedupe import StoryPolicy
from monitor.store import PostgresStore, SQLiteStore, Store


def story_policy(settings: Settings) -> StoryPolicy:
    """The ``stories:`` settings as the store applies them."""
    stories = settings.stories
    return StoryPolicy(stories.similarity, stories.window, stories.title_window)


def open_store(settings: Settings) -> Store:
    """The backend that ``storage:`` names (not yet opened)."""
    if settings.uses_postgresql:
        return PostgresStore(settings.storage, story_policy(settings))
    return SQLiteStore(settings.sqlite_path(), story_policy(settings))
